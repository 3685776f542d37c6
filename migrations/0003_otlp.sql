-- Prompt and completion messages that OTLP log records carry for a span (/v1/logs). A span's event
-- is written once (insert-once, like every event), and its log records may arrive before or after
-- it, in any number of requests. So the records are kept here, one row per message, keyed by a
-- hash of their content (a re-sent batch is stored once), and after each write the span's
-- event_texts row is rebuilt from all of its records: prompt and response become JSON arrays of
-- the messages in time order. A span written later keeps that row (its own insert of event_texts
-- does nothing on conflict).
CREATE TABLE otlp_span_texts (
    project_id  bigint NOT NULL,
    event_id    uuid NOT NULL,
    record_key  uuid NOT NULL,
    ts          timestamptz NOT NULL,
    seq         integer NOT NULL,
    role        text NOT NULL CHECK (role IN ('prompt', 'response')),
    body        text NOT NULL,
    PRIMARY KEY (project_id, event_id, record_key)
);
