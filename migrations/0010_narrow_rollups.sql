-- Narrow rollup families for the common questions (issue 4, part 6). The wide tables are keyed by
-- every low-cardinality dimension, so a 30-day breakdown by feature and model read ~300k day rows, a
-- 30-day p95 by model merged millions of sketch cells, and a 30-day top-10 of users read ~3M
-- per-user rows. These families keep only the keys those questions use, with the rest summed, at
-- hour, day and week (ISO weeks, Monday 00:00 UTC) level:
--   rollup_feature_model_*   usage by (feature, model), every usage aggregate
--   rollup_by_user_*         usage by user_id, the per-user aggregates
--   sketch_by_model_*        latency/TTFT sketch cells by model
--   sketch_by_feature_*      latency/TTFT sketch cells by feature
-- The compactor folds pending rows into them in the same statement as into the wide tables, so every
-- family moves in the same snapshot; views with the names without _folded add the pending rows, as in
-- 0004/0006. The reader picks the narrowest family that answers a query exactly (QueryPlan).

-- No compactor may fold while the new tables are filled from the wide ones (RollupCompactor's lock).
SELECT pg_advisory_xact_lock(32771354007661676);
-- The fill groups millions of wide rows (at 10M events: 10M per-user hour rows, 6.7M sketch hour
-- rows); with the default 4 MB it spills to disk for many minutes.
SET LOCAL work_mem = '256MB';
SET LOCAL maintenance_work_mem = '512MB';


-- The cells of pending rows, unnested once here for every view below.
CREATE VIEW rollup_usage_pending_cells AS
SELECT p.project_id, p.bucket, u.feature, u.model, u.provider, u.environment, u.status, u.step_type, u.calls, u.tokens_in, u.tokens_out, u.cached_tokens, u.cache_write_tokens, u.cost_pico, u.unpriced_calls, u.errors, u.retries, u.fallbacks, u.cache_hits, u.latency_sum_ms, u.latency_count, u.cache_savings_pico, u.miss_calls, u.miss_priced_calls, u.miss_cost_pico, u.ttft_sum_ms, u.ttft_count
FROM rollup_usage_pending p CROSS JOIN LATERAL unnest(p.feature, p.model, p.provider, p.environment, p.status, p.step_type, p.calls, p.tokens_in, p.tokens_out, p.cached_tokens, p.cache_write_tokens, p.cost_pico, p.unpriced_calls, p.errors, p.retries, p.fallbacks, p.cache_hits, p.latency_sum_ms, p.latency_count, p.cache_savings_pico, p.miss_calls, p.miss_priced_calls, p.miss_cost_pico, p.ttft_sum_ms, p.ttft_count) AS u (feature, model, provider, environment, status, step_type, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count);
CREATE VIEW rollup_user_pending_cells AS
SELECT p.project_id, p.bucket, u.user_id, u.feature, u.model, u.environment, u.calls, u.tokens_in, u.tokens_out, u.cached_tokens, u.cache_write_tokens, u.cost_pico, u.unpriced_calls, u.errors, u.retries, u.fallbacks, u.cache_hits
FROM rollup_user_pending p CROSS JOIN LATERAL unnest(p.user_id, p.feature, p.model, p.environment, p.calls, p.tokens_in, p.tokens_out, p.cached_tokens, p.cache_write_tokens, p.cost_pico, p.unpriced_calls, p.errors, p.retries, p.fallbacks, p.cache_hits) AS u (user_id, feature, model, environment, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits);
CREATE VIEW sketch_pending_cells AS
SELECT p.project_id, p.bucket, u.feature, u.model, u.provider, u.environment, u.metric, u.idx, u.count
FROM sketch_pending p CROSS JOIN LATERAL unnest(p.feature, p.model, p.provider, p.environment, p.metric, p.idx, p.count) AS u (feature, model, provider, environment, metric, idx, count);

-- rollup_feature_model: by feature, model, the other keys summed
CREATE TABLE rollup_feature_model_hour_folded (LIKE rollup_hour_folded);
ALTER TABLE rollup_feature_model_hour_folded DROP COLUMN provider, DROP COLUMN environment, DROP COLUMN status, DROP COLUMN step_type;
CREATE TABLE rollup_feature_model_day_folded (LIKE rollup_feature_model_hour_folded);
CREATE TABLE rollup_feature_model_week_folded (LIKE rollup_feature_model_hour_folded);
INSERT INTO rollup_feature_model_hour_folded (project_id, bucket, feature, model, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count) SELECT project_id, bucket, feature, model, sum(calls), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens), sum(cost_pico), sum(unpriced_calls), sum(errors), sum(retries), sum(fallbacks), sum(cache_hits), sum(latency_sum_ms), sum(latency_count), sum(cache_savings_pico), sum(miss_calls), sum(miss_priced_calls), sum(miss_cost_pico), sum(ttft_sum_ms), sum(ttft_count) FROM rollup_hour_folded GROUP BY 1, 2, 3, 4;
INSERT INTO rollup_feature_model_day_folded (project_id, bucket, feature, model, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count) SELECT project_id, bucket, feature, model, sum(calls), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens), sum(cost_pico), sum(unpriced_calls), sum(errors), sum(retries), sum(fallbacks), sum(cache_hits), sum(latency_sum_ms), sum(latency_count), sum(cache_savings_pico), sum(miss_calls), sum(miss_priced_calls), sum(miss_cost_pico), sum(ttft_sum_ms), sum(ttft_count) FROM rollup_day_folded GROUP BY 1, 2, 3, 4;
INSERT INTO rollup_feature_model_week_folded (project_id, bucket, feature, model, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count) SELECT project_id, date_trunc('week', bucket, 'UTC'), feature, model, sum(calls), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens), sum(cost_pico), sum(unpriced_calls), sum(errors), sum(retries), sum(fallbacks), sum(cache_hits), sum(latency_sum_ms), sum(latency_count), sum(cache_savings_pico), sum(miss_calls), sum(miss_priced_calls), sum(miss_cost_pico), sum(ttft_sum_ms), sum(ttft_count) FROM rollup_feature_model_day_folded GROUP BY 1, 2, 3, 4;
-- Keys after the fill: one index build instead of millions of index inserts.
ALTER TABLE rollup_feature_model_hour_folded ADD PRIMARY KEY (project_id, bucket, feature, model);
ALTER TABLE rollup_feature_model_day_folded ADD PRIMARY KEY (project_id, bucket, feature, model);
ALTER TABLE rollup_feature_model_week_folded ADD PRIMARY KEY (project_id, bucket, feature, model);
CREATE VIEW rollup_feature_model_hour AS SELECT project_id, bucket, feature, model, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count FROM rollup_feature_model_hour_folded
    UNION ALL SELECT project_id, date_trunc('hour', bucket, 'UTC'), feature, model, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count FROM rollup_usage_pending_cells;
CREATE VIEW rollup_feature_model_day AS SELECT project_id, bucket, feature, model, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count FROM rollup_feature_model_day_folded
    UNION ALL SELECT project_id, date_trunc('day', bucket, 'UTC'), feature, model, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count FROM rollup_usage_pending_cells;
CREATE VIEW rollup_feature_model_week AS SELECT project_id, bucket, feature, model, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count FROM rollup_feature_model_week_folded
    UNION ALL SELECT project_id, date_trunc('week', bucket, 'UTC'), feature, model, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count FROM rollup_usage_pending_cells;

-- rollup_by_user: by user_id, the other keys summed
CREATE TABLE rollup_by_user_hour_folded (LIKE rollup_user_hour_folded);
ALTER TABLE rollup_by_user_hour_folded DROP COLUMN feature, DROP COLUMN model, DROP COLUMN environment;
CREATE TABLE rollup_by_user_day_folded (LIKE rollup_by_user_hour_folded);
CREATE TABLE rollup_by_user_week_folded (LIKE rollup_by_user_hour_folded);
INSERT INTO rollup_by_user_hour_folded (project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits) SELECT project_id, bucket, user_id, sum(calls), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens), sum(cost_pico), sum(unpriced_calls), sum(errors), sum(retries), sum(fallbacks), sum(cache_hits) FROM rollup_user_hour_folded GROUP BY 1, 2, 3;
INSERT INTO rollup_by_user_day_folded (project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits) SELECT project_id, bucket, user_id, sum(calls), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens), sum(cost_pico), sum(unpriced_calls), sum(errors), sum(retries), sum(fallbacks), sum(cache_hits) FROM rollup_user_day_folded GROUP BY 1, 2, 3;
INSERT INTO rollup_by_user_week_folded (project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits) SELECT project_id, date_trunc('week', bucket, 'UTC'), user_id, sum(calls), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens), sum(cost_pico), sum(unpriced_calls), sum(errors), sum(retries), sum(fallbacks), sum(cache_hits) FROM rollup_by_user_day_folded GROUP BY 1, 2, 3;
-- Keys after the fill: one index build instead of millions of index inserts.
ALTER TABLE rollup_by_user_hour_folded ADD PRIMARY KEY (project_id, bucket, user_id);
CREATE INDEX rollup_by_user_hour_folded_user ON rollup_by_user_hour_folded (project_id, user_id, bucket);
ALTER TABLE rollup_by_user_day_folded ADD PRIMARY KEY (project_id, bucket, user_id);
CREATE INDEX rollup_by_user_day_folded_user ON rollup_by_user_day_folded (project_id, user_id, bucket);
ALTER TABLE rollup_by_user_week_folded ADD PRIMARY KEY (project_id, bucket, user_id);
CREATE INDEX rollup_by_user_week_folded_user ON rollup_by_user_week_folded (project_id, user_id, bucket);
CREATE VIEW rollup_by_user_hour AS SELECT project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits FROM rollup_by_user_hour_folded
    UNION ALL SELECT project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits FROM rollup_user_pending_cells;
CREATE VIEW rollup_by_user_day AS SELECT project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits FROM rollup_by_user_day_folded
    UNION ALL SELECT project_id, date_trunc('day', bucket, 'UTC'), user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits FROM rollup_user_pending_cells;
CREATE VIEW rollup_by_user_week AS SELECT project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits FROM rollup_by_user_week_folded
    UNION ALL SELECT project_id, date_trunc('week', bucket, 'UTC'), user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits FROM rollup_user_pending_cells;

-- sketch_by_model: by model, the other keys summed
CREATE TABLE sketch_by_model_hour_folded (LIKE sketch_hour_folded);
ALTER TABLE sketch_by_model_hour_folded DROP COLUMN feature, DROP COLUMN provider, DROP COLUMN environment;
CREATE TABLE sketch_by_model_day_folded (LIKE sketch_by_model_hour_folded);
CREATE TABLE sketch_by_model_week_folded (LIKE sketch_by_model_hour_folded);
INSERT INTO sketch_by_model_hour_folded (project_id, bucket, model, metric, idx, count) SELECT project_id, bucket, model, metric, idx, sum(count) FROM sketch_hour_folded GROUP BY 1, 2, 3, 4, 5;
INSERT INTO sketch_by_model_day_folded (project_id, bucket, model, metric, idx, count) SELECT project_id, bucket, model, metric, idx, sum(count) FROM sketch_day_folded GROUP BY 1, 2, 3, 4, 5;
INSERT INTO sketch_by_model_week_folded (project_id, bucket, model, metric, idx, count) SELECT project_id, date_trunc('week', bucket, 'UTC'), model, metric, idx, sum(count) FROM sketch_by_model_day_folded GROUP BY 1, 2, 3, 4, 5;
-- Keys after the fill: one index build instead of millions of index inserts.
ALTER TABLE sketch_by_model_hour_folded ADD PRIMARY KEY (project_id, bucket, model, metric, idx);
ALTER TABLE sketch_by_model_day_folded ADD PRIMARY KEY (project_id, bucket, model, metric, idx);
ALTER TABLE sketch_by_model_week_folded ADD PRIMARY KEY (project_id, bucket, model, metric, idx);
CREATE VIEW sketch_by_model_hour AS SELECT project_id, bucket, model, metric, idx, count FROM sketch_by_model_hour_folded
    UNION ALL SELECT project_id, date_trunc('hour', bucket, 'UTC'), model, metric, idx, count FROM sketch_pending_cells;
CREATE VIEW sketch_by_model_day AS SELECT project_id, bucket, model, metric, idx, count FROM sketch_by_model_day_folded
    UNION ALL SELECT project_id, date_trunc('day', bucket, 'UTC'), model, metric, idx, count FROM sketch_pending_cells;
CREATE VIEW sketch_by_model_week AS SELECT project_id, bucket, model, metric, idx, count FROM sketch_by_model_week_folded
    UNION ALL SELECT project_id, date_trunc('week', bucket, 'UTC'), model, metric, idx, count FROM sketch_pending_cells;

-- sketch_by_feature: by feature, the other keys summed
CREATE TABLE sketch_by_feature_hour_folded (LIKE sketch_hour_folded);
ALTER TABLE sketch_by_feature_hour_folded DROP COLUMN model, DROP COLUMN provider, DROP COLUMN environment;
CREATE TABLE sketch_by_feature_day_folded (LIKE sketch_by_feature_hour_folded);
CREATE TABLE sketch_by_feature_week_folded (LIKE sketch_by_feature_hour_folded);
INSERT INTO sketch_by_feature_hour_folded (project_id, bucket, feature, metric, idx, count) SELECT project_id, bucket, feature, metric, idx, sum(count) FROM sketch_hour_folded GROUP BY 1, 2, 3, 4, 5;
INSERT INTO sketch_by_feature_day_folded (project_id, bucket, feature, metric, idx, count) SELECT project_id, bucket, feature, metric, idx, sum(count) FROM sketch_day_folded GROUP BY 1, 2, 3, 4, 5;
INSERT INTO sketch_by_feature_week_folded (project_id, bucket, feature, metric, idx, count) SELECT project_id, date_trunc('week', bucket, 'UTC'), feature, metric, idx, sum(count) FROM sketch_by_feature_day_folded GROUP BY 1, 2, 3, 4, 5;
-- Keys after the fill: one index build instead of millions of index inserts.
ALTER TABLE sketch_by_feature_hour_folded ADD PRIMARY KEY (project_id, bucket, feature, metric, idx);
ALTER TABLE sketch_by_feature_day_folded ADD PRIMARY KEY (project_id, bucket, feature, metric, idx);
ALTER TABLE sketch_by_feature_week_folded ADD PRIMARY KEY (project_id, bucket, feature, metric, idx);
CREATE VIEW sketch_by_feature_hour AS SELECT project_id, bucket, feature, metric, idx, count FROM sketch_by_feature_hour_folded
    UNION ALL SELECT project_id, date_trunc('hour', bucket, 'UTC'), feature, metric, idx, count FROM sketch_pending_cells;
CREATE VIEW sketch_by_feature_day AS SELECT project_id, bucket, feature, metric, idx, count FROM sketch_by_feature_day_folded
    UNION ALL SELECT project_id, date_trunc('day', bucket, 'UTC'), feature, metric, idx, count FROM sketch_pending_cells;
CREATE VIEW sketch_by_feature_week AS SELECT project_id, bucket, feature, metric, idx, count FROM sketch_by_feature_week_folded
    UNION ALL SELECT project_id, date_trunc('week', bucket, 'UTC'), feature, metric, idx, count FROM sketch_pending_cells;
