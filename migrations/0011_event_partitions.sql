-- Raw events partitioned by day (UTC), so retention drops whole partitions instead of deleting
-- rows, plus a registry of stored event ids that keeps ingest exactly-once.
--
-- A partitioned table's unique keys must contain the partition key, so (project_id, event_id) can
-- no longer be unique on `events` itself. Dedup moves to `event_ids`, an unpartitioned table keyed
-- by (project_id, event_id) that also records each event's ts: ingest inserts the batch's ids there
-- ON CONFLICT DO NOTHING and only the ids that were new go on to `events` and the rollups. Its rows
-- live exactly as long as the raw retention window (the maintainer deletes them with the partitions),
-- and ingest refuses events dated before that window, so no accepted event is ever counted twice.
--
-- Partitions are named events_pYYYYMMDD and cover [day 00:00 UTC, next day 00:00 UTC). The server
-- creates them ahead (StorageMaintainer); `events_default` catches what no partition covers (rows
-- older than the first partition, or a day the maintainer has not reached yet) so ingest never fails
-- for want of a partition; retention deletes from it in bounded batches.

ALTER TABLE events RENAME TO events_unpartitioned;
ALTER INDEX events_pkey RENAME TO events_unpartitioned_pkey;
DROP INDEX events_project_request;
DROP INDEX events_project_parent;
DROP INDEX events_project_user_ts;
DROP INDEX events_project_ts_id;
DROP INDEX events_project_session;

CREATE TABLE events (LIKE events_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (ts);
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- Each index serves a reader: recent calls and keyset pages (ts_id; also the per-project retention
-- and the registry lookups by (project, ts, id)), request trees (request, parent), users, sessions.
CREATE INDEX events_project_ts_id ON events (project_id, ts DESC, event_id DESC);
CREATE INDEX events_project_request ON events (project_id, request_id);
CREATE INDEX events_project_parent ON events (project_id, parent_request_id) WHERE parent_request_id IS NOT NULL;
CREATE INDEX events_project_user_ts ON events (project_id, user_id, ts) WHERE user_id IS NOT NULL;
CREATE INDEX events_project_session ON events (project_id, session_id, ts) WHERE session_id IS NOT NULL;

-- Ingest inserts here first; ts says which partition holds the event. BRIN on ts (rows arrive in
-- roughly time order) lets retention find expired ids at almost no cost to ingest.
CREATE TABLE event_ids (
    project_id  bigint NOT NULL,
    event_id    uuid NOT NULL,
    ts          timestamptz NOT NULL,
    PRIMARY KEY (project_id, event_id)
);
CREATE INDEX event_ids_ts ON event_ids USING brin (ts) WITH (pages_per_range = 16, autosummarize = on);

-- Log-record texts whose span never arrived are aged out by their own time.
CREATE INDEX otlp_span_texts_ts ON otlp_span_texts USING brin (ts) WITH (pages_per_range = 16, autosummarize = on);

-- Per-project raw retention (NULL: the server's); a value beyond the server's changes nothing,
-- since whole partitions go at the server's horizon.
ALTER TABLE project_settings ADD COLUMN raw_retention_days integer CHECK (raw_retention_days BETWEEN 1 AND 3650);

-- Creates the partition of the UTC day `day` unless it exists; rows of that day waiting in the
-- default partition move into it first (attaching would fail otherwise). Returns whether it created.
-- The new table is attached rather than created as a partition: ATTACH takes a SHARE UPDATE
-- EXCLUSIVE lock on `events`, so ingest and queries go on meanwhile.
CREATE FUNCTION tm_ensure_event_partition(day date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    name text := 'events_p' || to_char(day, 'YYYYMMDD');
    lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    EXECUTE format('WITH moved AS (DELETE FROM events_default WHERE ts >= %L AND ts < %L RETURNING *) INSERT INTO %I SELECT * FROM moved', lo, hi, name);
    EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
    RETURN true;
END
$$;

-- Drops up to `most` day partitions that end at or before `cutoff`, oldest first; returns how many.
CREATE FUNCTION tm_drop_event_partitions(cutoff timestamptz, most integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    part record;
    dropped integer := 0;
BEGIN
    FOR part IN
        SELECT c.relname, to_date(substr(c.relname, 9), 'YYYYMMDD') AS day
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_p[0-9]{8}$'
        ORDER BY 2
    LOOP
        EXIT WHEN dropped >= most OR (part.day + 1)::timestamp AT TIME ZONE 'UTC' > cutoff;
        EXECUTE format('DROP TABLE %I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END
$$;

-- Partitions for the days that hold rows of the last 31 days, and for yesterday to a week ahead;
-- older rows go to the default partition and age out from there.
SELECT tm_ensure_event_partition(d::date)
FROM (
    SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date AS d FROM events_unpartitioned WHERE ts >= now() - interval '31 days' AND ts < now() + interval '8 days'
    UNION
    SELECT generate_series(((now() AT TIME ZONE 'UTC')::date - 1)::timestamp, ((now() AT TIME ZONE 'UTC')::date + 7)::timestamp, interval '1 day')::date
) AS days
ORDER BY d;

INSERT INTO events SELECT * FROM events_unpartitioned;
INSERT INTO event_ids (project_id, event_id, ts) SELECT project_id, event_id, ts FROM events_unpartitioned;
DROP TABLE events_unpartitioned;
