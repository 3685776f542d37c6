-- Usage rollups become pending rows too. Upserting the current minute's cells in every ingest
-- transaction made concurrent writers update the same few rows dozens of times a second: each
-- update leaves a dead version that the next conflict check walks through (measured under single-
-- event load: 38% of the database's CPU in those upserts). Now ingest only inserts one array row per
-- batch and minute; the compactor folds them into the keyed tables, which keep their old contents.
-- Views with the old names union folded and pending rows, as in 0004.

ALTER TABLE rollup_minute RENAME TO rollup_minute_folded;
ALTER TABLE rollup_hour RENAME TO rollup_hour_folded;
ALTER TABLE rollup_day RENAME TO rollup_day_folded;

-- One row per ingest transaction and minute bucket: element i of every array is one usage cell.
CREATE TABLE rollup_usage_pending (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id          bigint NOT NULL,
    bucket              timestamptz NOT NULL,
    feature             text[] NOT NULL,
    model               text[] NOT NULL,
    provider            text[] NOT NULL,
    environment         text[] NOT NULL,
    status              text[] NOT NULL,
    step_type           text[] NOT NULL,
    calls               bigint[] NOT NULL,
    tokens_in           bigint[] NOT NULL,
    tokens_out          bigint[] NOT NULL,
    cached_tokens       bigint[] NOT NULL,
    cache_write_tokens  bigint[] NOT NULL,
    cost_pico           numeric[] NOT NULL,
    unpriced_calls      bigint[] NOT NULL,
    errors              bigint[] NOT NULL,
    retries             bigint[] NOT NULL,
    fallbacks           bigint[] NOT NULL,
    cache_hits          bigint[] NOT NULL,
    latency_sum_ms      double precision[] NOT NULL,
    latency_count       bigint[] NOT NULL,
    cache_savings_pico  numeric[] NOT NULL,
    miss_calls          bigint[] NOT NULL,
    miss_priced_calls   bigint[] NOT NULL,
    miss_cost_pico      numeric[] NOT NULL,
    ttft_sum_ms         double precision[] NOT NULL,
    ttft_count          bigint[] NOT NULL
);
CREATE INDEX rollup_usage_pending_project ON rollup_usage_pending (project_id, bucket);
ALTER TABLE rollup_usage_pending
    ALTER COLUMN feature SET STORAGE EXTERNAL, ALTER COLUMN model SET STORAGE EXTERNAL, ALTER COLUMN provider SET STORAGE EXTERNAL, ALTER COLUMN environment SET STORAGE EXTERNAL, ALTER COLUMN status SET STORAGE EXTERNAL, ALTER COLUMN step_type SET STORAGE EXTERNAL, ALTER COLUMN calls SET STORAGE EXTERNAL, ALTER COLUMN tokens_in SET STORAGE EXTERNAL, ALTER COLUMN tokens_out SET STORAGE EXTERNAL, ALTER COLUMN cached_tokens SET STORAGE EXTERNAL, ALTER COLUMN cache_write_tokens SET STORAGE EXTERNAL, ALTER COLUMN cost_pico SET STORAGE EXTERNAL, ALTER COLUMN unpriced_calls SET STORAGE EXTERNAL, ALTER COLUMN errors SET STORAGE EXTERNAL, ALTER COLUMN retries SET STORAGE EXTERNAL, ALTER COLUMN fallbacks SET STORAGE EXTERNAL, ALTER COLUMN cache_hits SET STORAGE EXTERNAL, ALTER COLUMN latency_sum_ms SET STORAGE EXTERNAL, ALTER COLUMN latency_count SET STORAGE EXTERNAL, ALTER COLUMN cache_savings_pico SET STORAGE EXTERNAL, ALTER COLUMN miss_calls SET STORAGE EXTERNAL, ALTER COLUMN miss_priced_calls SET STORAGE EXTERNAL, ALTER COLUMN miss_cost_pico SET STORAGE EXTERNAL, ALTER COLUMN ttft_sum_ms SET STORAGE EXTERNAL, ALTER COLUMN ttft_count SET STORAGE EXTERNAL;

CREATE VIEW rollup_minute AS
SELECT project_id, bucket, feature, model, provider, environment, status, step_type, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count FROM rollup_minute_folded
UNION ALL
SELECT p.project_id, p.bucket, u.feature, u.model, u.provider, u.environment, u.status, u.step_type, u.calls, u.tokens_in, u.tokens_out, u.cached_tokens, u.cache_write_tokens, u.cost_pico, u.unpriced_calls, u.errors, u.retries, u.fallbacks, u.cache_hits, u.latency_sum_ms, u.latency_count, u.cache_savings_pico, u.miss_calls, u.miss_priced_calls, u.miss_cost_pico, u.ttft_sum_ms, u.ttft_count
FROM rollup_usage_pending p CROSS JOIN LATERAL unnest(p.feature, p.model, p.provider, p.environment, p.status, p.step_type, p.calls, p.tokens_in, p.tokens_out, p.cached_tokens, p.cache_write_tokens, p.cost_pico, p.unpriced_calls, p.errors, p.retries, p.fallbacks, p.cache_hits, p.latency_sum_ms, p.latency_count, p.cache_savings_pico, p.miss_calls, p.miss_priced_calls, p.miss_cost_pico, p.ttft_sum_ms, p.ttft_count) AS u (feature, model, provider, environment, status, step_type, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count);

CREATE VIEW rollup_hour AS
SELECT project_id, bucket, feature, model, provider, environment, status, step_type, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count FROM rollup_hour_folded
UNION ALL
SELECT p.project_id, date_trunc('hour', p.bucket, 'UTC'), u.feature, u.model, u.provider, u.environment, u.status, u.step_type, u.calls, u.tokens_in, u.tokens_out, u.cached_tokens, u.cache_write_tokens, u.cost_pico, u.unpriced_calls, u.errors, u.retries, u.fallbacks, u.cache_hits, u.latency_sum_ms, u.latency_count, u.cache_savings_pico, u.miss_calls, u.miss_priced_calls, u.miss_cost_pico, u.ttft_sum_ms, u.ttft_count
FROM rollup_usage_pending p CROSS JOIN LATERAL unnest(p.feature, p.model, p.provider, p.environment, p.status, p.step_type, p.calls, p.tokens_in, p.tokens_out, p.cached_tokens, p.cache_write_tokens, p.cost_pico, p.unpriced_calls, p.errors, p.retries, p.fallbacks, p.cache_hits, p.latency_sum_ms, p.latency_count, p.cache_savings_pico, p.miss_calls, p.miss_priced_calls, p.miss_cost_pico, p.ttft_sum_ms, p.ttft_count) AS u (feature, model, provider, environment, status, step_type, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count);

CREATE VIEW rollup_day AS
SELECT project_id, bucket, feature, model, provider, environment, status, step_type, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count FROM rollup_day_folded
UNION ALL
SELECT p.project_id, date_trunc('day', p.bucket, 'UTC'), u.feature, u.model, u.provider, u.environment, u.status, u.step_type, u.calls, u.tokens_in, u.tokens_out, u.cached_tokens, u.cache_write_tokens, u.cost_pico, u.unpriced_calls, u.errors, u.retries, u.fallbacks, u.cache_hits, u.latency_sum_ms, u.latency_count, u.cache_savings_pico, u.miss_calls, u.miss_priced_calls, u.miss_cost_pico, u.ttft_sum_ms, u.ttft_count
FROM rollup_usage_pending p CROSS JOIN LATERAL unnest(p.feature, p.model, p.provider, p.environment, p.status, p.step_type, p.calls, p.tokens_in, p.tokens_out, p.cached_tokens, p.cache_write_tokens, p.cost_pico, p.unpriced_calls, p.errors, p.retries, p.fallbacks, p.cache_hits, p.latency_sum_ms, p.latency_count, p.cache_savings_pico, p.miss_calls, p.miss_priced_calls, p.miss_cost_pico, p.ttft_sum_ms, p.ttft_count) AS u (feature, model, provider, environment, status, step_type, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count);
