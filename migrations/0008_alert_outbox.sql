-- Alert delivery: where each project's notifications go, and a transactional outbox of
-- notifications to deliver, one row per (notification, destination).

-- Per project: an Alertmanager-format webhook, a Slack incoming webhook, or both. URLs may carry
-- tokens and the HMAC secret signs webhook bodies: neither is ever logged.
CREATE TABLE alert_destinations (
    project_id   bigint PRIMARY KEY REFERENCES projects (id),
    webhook_url  text,
    slack_url    text,
    hmac_secret  text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Written in the same transaction as the alert state change that caused it; a deliverer claims
-- due rows with FOR UPDATE SKIP LOCKED and leases them (next_attempt_at moves past the attempt's
-- timeout), so several instances never send one row at the same time and a dead instance's
-- claims come back. `id` is derived from the unique key, stable across retries, and sent as
-- X-Tokenmeter-Notification-Id so receivers can dedupe at-least-once delivery.
CREATE TABLE alert_outbox (
    id               uuid PRIMARY KEY,
    project_id       bigint NOT NULL REFERENCES projects (id),
    fingerprint      text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('firing', 'resolved', 'repeat', 'escalated')),
    -- The incident (its first breach) and, for repeats and escalations, when that one was sent.
    incident_start   timestamptz NOT NULL,
    sequence_at      timestamptz NOT NULL DEFAULT '1970-01-01T00:00:00Z',
    destination      text NOT NULL CHECK (destination IN ('webhook', 'slack')),
    url              text NOT NULL,
    payload          json NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    claim_token      uuid,
    last_attempt_at  timestamptz,
    last_status      integer,
    last_error       text,
    delivered_at     timestamptz,
    dead_at          timestamptz,
    created_at       timestamptz NOT NULL,
    UNIQUE (project_id, fingerprint, kind, incident_start, sequence_at, destination)
);

-- What a deliverer scans: undelivered, live rows by due time.
CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
-- Per-alert order: a row waits while an older one of the same alert and destination is pending.
CREATE INDEX alert_outbox_alert_pending ON alert_outbox (project_id, fingerprint, destination, created_at)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
-- Dead letters per project, newest first (for the API).
CREATE INDEX alert_outbox_dead ON alert_outbox (project_id, dead_at DESC) WHERE dead_at IS NOT NULL;
