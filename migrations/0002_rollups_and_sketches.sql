-- Rollups at hour and day next to the minute level, per-user rollups for cost attribution, and
-- mergeable latency/TTFT sketches (log-bucket histograms, γ = 1.02: ≤ 1% relative error), all
-- maintained in the ingest transaction from newly inserted rows only.

-- Savings bookkeeping: what cached input tokens saved against the uncached input price, and the cost
-- of the calls that were not app-cache hits (to value the hits at the price of the misses).
ALTER TABLE events ADD COLUMN cache_savings_pico bigint;
ALTER TABLE rollup_minute
    ADD COLUMN cache_savings_pico numeric NOT NULL DEFAULT 0,
    ADD COLUMN miss_calls bigint NOT NULL DEFAULT 0,
    ADD COLUMN miss_priced_calls bigint NOT NULL DEFAULT 0,
    ADD COLUMN miss_cost_pico numeric NOT NULL DEFAULT 0,
    ADD COLUMN ttft_sum_ms double precision NOT NULL DEFAULT 0,
    ADD COLUMN ttft_count bigint NOT NULL DEFAULT 0;

CREATE TABLE rollup_hour (LIKE rollup_minute INCLUDING ALL);
CREATE TABLE rollup_day (LIKE rollup_minute INCLUDING ALL);

CREATE TABLE rollup_user_hour (
    project_id          bigint NOT NULL,
    bucket              timestamptz NOT NULL,
    user_id             text NOT NULL,
    feature             text NOT NULL,
    model               text NOT NULL,
    environment         text NOT NULL,
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
    PRIMARY KEY (project_id, bucket, user_id, feature, model, environment)
);
CREATE TABLE rollup_user_day (LIKE rollup_user_hour INCLUDING ALL);

-- metric 0 = total latency, 1 = time to first token; idx = ceil(ln(ms) / ln(1.02)).
CREATE TABLE sketch_minute (
    project_id   bigint NOT NULL,
    bucket       timestamptz NOT NULL,
    feature      text NOT NULL,
    model        text NOT NULL,
    provider     text NOT NULL,
    environment  text NOT NULL,
    metric       smallint NOT NULL,
    idx          integer NOT NULL,
    count        bigint NOT NULL,
    PRIMARY KEY (project_id, bucket, feature, model, provider, environment, metric, idx)
);
CREATE TABLE sketch_hour (LIKE sketch_minute INCLUDING ALL);
CREATE TABLE sketch_day (LIKE sketch_minute INCLUDING ALL);

-- Recent calls, newest first, with keyset pagination.
CREATE INDEX events_project_ts_id ON events (project_id, ts DESC, event_id DESC);
DROP INDEX events_project_ts;
CREATE INDEX events_project_session ON events (project_id, session_id, ts) WHERE session_id IS NOT NULL;

-- The sketch bucket of a latency in ms; 0 and below share one bucket. Same formula in Swift
-- (LatencySketch) for the representative value of a bucket.
CREATE FUNCTION tm_sketch_index(ms double precision) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN ms <= 0 THEN -100000 ELSE ceil(ln(ms) / ln(1.02::double precision))::integer END;
