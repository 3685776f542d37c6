-- Alerting in the running server: per-project rule overrides, budgets, and alert instances
-- (the state the evaluator carries from one round to the next, and the history the API lists).
-- Destinations and the outbox are migration 0008.

-- Overrides only: a project with no row for a rule runs it with the built-in defaults, so alerting
-- works out of the box. `settings` holds the overridden fields (threshold, min_calls,
-- pending_seconds); a field absent from it takes its default.
CREATE TABLE alert_rules (
    project_id  bigint NOT NULL REFERENCES projects (id),
    rule        text NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    settings    jsonb NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, rule)
);

-- A spending limit over a calendar period. `id` is chosen by the user (PUT /v1/budgets/{id}).
-- limit_amount is picodollars (unit usd) or tokens (unit tokens); scope_value is the feature or
-- user id, NULL for a project-wide budget.
CREATE TABLE budgets (
    project_id    bigint NOT NULL REFERENCES projects (id),
    id            text NOT NULL,
    scope_kind    text NOT NULL CHECK (scope_kind IN ('project', 'feature', 'user')),
    scope_value   text,
    period        text NOT NULL CHECK (period IN ('daily', 'monthly')),
    unit          text NOT NULL CHECK (unit IN ('usd', 'tokens')),
    limit_amount  bigint NOT NULL CHECK (limit_amount > 0),
    time_zone     text NOT NULL DEFAULT 'UTC',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, id),
    CHECK ((scope_kind = 'project') = (scope_value IS NULL))
);

-- One row per incident. A fingerprint has at most one live (pending or firing) row — the unique
-- index below, which also holds with several instances on one database — and any number of
-- resolved rows kept as history. The columns mirror Detection's AlertInstance so the evaluator
-- can load the state back exactly.
CREATE TABLE alert_instances (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id         bigint NOT NULL REFERENCES projects (id),
    fingerprint        text NOT NULL,
    rule               text NOT NULL,
    state              text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
    severity           text NOT NULL CHECK (severity IN ('warning', 'critical')),
    labels             jsonb NOT NULL,
    instance           text,
    unit               text NOT NULL,
    value              double precision NOT NULL,
    baseline           double precision,
    threshold          double precision NOT NULL,
    peak_value         double precision NOT NULL,
    summary            text NOT NULL,
    annotations        jsonb NOT NULL DEFAULT '{}',
    pending_for        double precision NOT NULL DEFAULT 0,
    pending_since      timestamptz NOT NULL,
    started_at         timestamptz,
    last_evaluated     timestamptz NOT NULL,
    resolved_at        timestamptz,
    clear_since        timestamptz,
    notified_severity  text,
    notified_value     double precision,
    last_notified_at   timestamptz,
    inhibited_by       text
);
CREATE UNIQUE INDEX alert_instances_live ON alert_instances (project_id, fingerprint) WHERE state <> 'resolved';
-- GET /v1/alerts: newest first per project.
CREATE INDEX alert_instances_project_time ON alert_instances (project_id, pending_since DESC, id DESC);
-- Runaway-trace evaluation reads recent events of traces.
CREATE INDEX events_project_trace_ts ON events (project_id, trace_id, ts) WHERE trace_id IS NOT NULL;
