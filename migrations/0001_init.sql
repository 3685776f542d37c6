-- Projects, keys, raw events, their text, per-minute rollup, price overrides.
-- Every tenant table leads its primary key with project_id so the schema stays distributable
-- (Citus) and every query can be routed by one project.

CREATE TABLE projects (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Only the SHA-256 of a key is stored; the key itself is shown once at creation.
CREATE TABLE api_keys (
    key_hash    text PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects (id),
    kind        text NOT NULL CHECK (kind IN ('ingest', 'read')),
    key_prefix  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_project ON api_keys (project_id);

-- One row per LLM call or agent step. cost_pico is USD × 10^12 (exact); NULL means unpriced.
CREATE TABLE events (
    project_id          bigint NOT NULL,
    event_id            uuid NOT NULL,
    ts                  timestamptz NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now(),
    request_id          text NOT NULL,
    parent_request_id   text,
    trace_id            text,
    session_id          text,
    user_id             text,
    feature             text,
    environment         text,
    provider            text,
    model               text,
    priced_model        text,
    status              text NOT NULL,
    error_type          text,
    http_status         integer,
    tokens_in           bigint NOT NULL,
    tokens_out          bigint NOT NULL,
    cached_tokens       bigint NOT NULL,
    cache_write_tokens  bigint NOT NULL,
    cost_pico           bigint,
    cost_source         text,
    latency_ms          double precision,
    ttft_ms             double precision,
    retries             integer NOT NULL,
    fallback_triggered  boolean NOT NULL,
    cache_hit           boolean NOT NULL,
    step_index          integer,
    step_type           text,
    tool_name           text,
    total_cost_pico     bigint,
    terminated_early    boolean,
    loop_count          integer,
    tags                text[],
    metadata            jsonb,
    has_text            boolean NOT NULL DEFAULT false,
    PRIMARY KEY (project_id, event_id)
);
CREATE INDEX events_project_ts ON events (project_id, ts);
CREATE INDEX events_project_request ON events (project_id, request_id);
CREATE INDEX events_project_parent ON events (project_id, parent_request_id) WHERE parent_request_id IS NOT NULL;
CREATE INDEX events_project_user_ts ON events (project_id, user_id, ts) WHERE user_id IS NOT NULL;

-- Prompt/response and step text, kept out of the analytics rows.
CREATE TABLE event_texts (
    project_id           bigint NOT NULL,
    event_id             uuid NOT NULL,
    prompt               text,
    response             text,
    tool_input           text,
    tool_output          text,
    intermediate_output  text,
    truncated            boolean NOT NULL DEFAULT false,
    PRIMARY KEY (project_id, event_id)
);

-- Per-minute rollup maintained in the same transaction as the raw insert, from newly inserted
-- rows only, so re-sent events never count twice. '' stands for "absent" in the key columns.
CREATE TABLE rollup_minute (
    project_id          bigint NOT NULL,
    bucket              timestamptz NOT NULL,
    feature             text NOT NULL,
    model               text NOT NULL,
    provider            text NOT NULL,
    environment         text NOT NULL,
    status              text NOT NULL,
    step_type           text NOT NULL,
    calls               bigint NOT NULL,
    tokens_in           bigint NOT NULL,
    tokens_out          bigint NOT NULL,
    cached_tokens       bigint NOT NULL,
    cache_write_tokens  bigint NOT NULL,
    cost_pico           numeric NOT NULL,
    unpriced_calls      bigint NOT NULL,
    errors              bigint NOT NULL,
    retries             bigint NOT NULL,
    fallbacks           bigint NOT NULL,
    cache_hits          bigint NOT NULL,
    latency_sum_ms      double precision NOT NULL,
    latency_count       bigint NOT NULL,
    PRIMARY KEY (project_id, bucket, feature, model, provider, environment, status, step_type)
);

-- Per-project prices that win over the shipped table for events ingested afterwards.
CREATE TABLE price_overrides (
    project_id                  bigint NOT NULL,
    model                       text NOT NULL,
    effective_from              timestamptz NOT NULL,
    provider                    text NOT NULL,
    input_per_million           numeric NOT NULL,
    output_per_million          numeric NOT NULL,
    cached_input_per_million    numeric,
    cache_write_per_million     numeric,
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, model, effective_from)
);
