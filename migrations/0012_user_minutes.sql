-- Per-user rollups get a minute level (issue 4; found by bench/soak): the ragged ends of a per-user
-- range (a "top 10 users, last 24 h" ends in the current hour) were summed from raw events, so that
-- query read every raw event of the current hour and the hour 24 h ago — seconds at a few thousand
-- events/s, and its parallel workers starved ingest. Now:
--   * ingest writes per-user pending cells per minute (they were per hour);
--   * the compactor folds them, by user alone, also into rollup_by_user_minute_folded;
--   * the reader stitches whole minutes from there, leaving raw events only the sub-minute ends.
-- The wide per-user family (user, feature, model, environment) stays at hour and day.

-- No compactor may fold while pending rows change meaning (RollupCompactor's lock).
SELECT pg_advisory_xact_lock(32771354007661676);
SET LOCAL work_mem = '256MB';

-- 1. Pending per-user rows written before this migration hold hour buckets: fold them now, as the
--    compactor of 0010 would have, so every pending row from here on is a minute bucket.
WITH moved AS (DELETE FROM rollup_user_pending RETURNING *),
cells AS (
    SELECT m.project_id, m.bucket, u.user_id, u.feature, u.model, u.environment, u.calls, u.tokens_in, u.tokens_out, u.cached_tokens, u.cache_write_tokens, u.cost_pico, u.unpriced_calls, u.errors, u.retries, u.fallbacks, u.cache_hits
    FROM moved m CROSS JOIN LATERAL unnest(m.user_id, m.feature, m.model, m.environment, m.calls, m.tokens_in, m.tokens_out, m.cached_tokens, m.cache_write_tokens, m.cost_pico, m.unpriced_calls, m.errors, m.retries, m.fallbacks, m.cache_hits) AS u (user_id, feature, model, environment, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits)
),
fold_rollup_user_hour_folded AS (
    INSERT INTO rollup_user_hour_folded AS r (project_id, bucket, user_id, feature, model, environment, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits)
    SELECT project_id, date_trunc('hour', bucket, 'UTC'), user_id, feature, model, environment, sum(calls), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens), sum(cost_pico), sum(unpriced_calls), sum(errors), sum(retries), sum(fallbacks), sum(cache_hits)
    FROM cells GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (project_id, bucket, user_id, feature, model, environment) DO UPDATE
    SET calls = r.calls + EXCLUDED.calls, tokens_in = r.tokens_in + EXCLUDED.tokens_in, tokens_out = r.tokens_out + EXCLUDED.tokens_out, cached_tokens = r.cached_tokens + EXCLUDED.cached_tokens, cache_write_tokens = r.cache_write_tokens + EXCLUDED.cache_write_tokens, cost_pico = r.cost_pico + EXCLUDED.cost_pico, unpriced_calls = r.unpriced_calls + EXCLUDED.unpriced_calls, errors = r.errors + EXCLUDED.errors, retries = r.retries + EXCLUDED.retries, fallbacks = r.fallbacks + EXCLUDED.fallbacks, cache_hits = r.cache_hits + EXCLUDED.cache_hits
),
fold_rollup_user_day_folded AS (
    INSERT INTO rollup_user_day_folded AS r (project_id, bucket, user_id, feature, model, environment, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits)
    SELECT project_id, date_trunc('day', bucket, 'UTC'), user_id, feature, model, environment, sum(calls), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens), sum(cost_pico), sum(unpriced_calls), sum(errors), sum(retries), sum(fallbacks), sum(cache_hits)
    FROM cells GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (project_id, bucket, user_id, feature, model, environment) DO UPDATE
    SET calls = r.calls + EXCLUDED.calls, tokens_in = r.tokens_in + EXCLUDED.tokens_in, tokens_out = r.tokens_out + EXCLUDED.tokens_out, cached_tokens = r.cached_tokens + EXCLUDED.cached_tokens, cache_write_tokens = r.cache_write_tokens + EXCLUDED.cache_write_tokens, cost_pico = r.cost_pico + EXCLUDED.cost_pico, unpriced_calls = r.unpriced_calls + EXCLUDED.unpriced_calls, errors = r.errors + EXCLUDED.errors, retries = r.retries + EXCLUDED.retries, fallbacks = r.fallbacks + EXCLUDED.fallbacks, cache_hits = r.cache_hits + EXCLUDED.cache_hits
),
fold_rollup_by_user_hour_folded AS (
    INSERT INTO rollup_by_user_hour_folded AS r (project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits)
    SELECT project_id, date_trunc('hour', bucket, 'UTC'), user_id, sum(calls), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens), sum(cost_pico), sum(unpriced_calls), sum(errors), sum(retries), sum(fallbacks), sum(cache_hits)
    FROM cells GROUP BY 1, 2, 3
    ON CONFLICT (project_id, bucket, user_id) DO UPDATE
    SET calls = r.calls + EXCLUDED.calls, tokens_in = r.tokens_in + EXCLUDED.tokens_in, tokens_out = r.tokens_out + EXCLUDED.tokens_out, cached_tokens = r.cached_tokens + EXCLUDED.cached_tokens, cache_write_tokens = r.cache_write_tokens + EXCLUDED.cache_write_tokens, cost_pico = r.cost_pico + EXCLUDED.cost_pico, unpriced_calls = r.unpriced_calls + EXCLUDED.unpriced_calls, errors = r.errors + EXCLUDED.errors, retries = r.retries + EXCLUDED.retries, fallbacks = r.fallbacks + EXCLUDED.fallbacks, cache_hits = r.cache_hits + EXCLUDED.cache_hits
),
fold_rollup_by_user_day_folded AS (
    INSERT INTO rollup_by_user_day_folded AS r (project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits)
    SELECT project_id, date_trunc('day', bucket, 'UTC'), user_id, sum(calls), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens), sum(cost_pico), sum(unpriced_calls), sum(errors), sum(retries), sum(fallbacks), sum(cache_hits)
    FROM cells GROUP BY 1, 2, 3
    ON CONFLICT (project_id, bucket, user_id) DO UPDATE
    SET calls = r.calls + EXCLUDED.calls, tokens_in = r.tokens_in + EXCLUDED.tokens_in, tokens_out = r.tokens_out + EXCLUDED.tokens_out, cached_tokens = r.cached_tokens + EXCLUDED.cached_tokens, cache_write_tokens = r.cache_write_tokens + EXCLUDED.cache_write_tokens, cost_pico = r.cost_pico + EXCLUDED.cost_pico, unpriced_calls = r.unpriced_calls + EXCLUDED.unpriced_calls, errors = r.errors + EXCLUDED.errors, retries = r.retries + EXCLUDED.retries, fallbacks = r.fallbacks + EXCLUDED.fallbacks, cache_hits = r.cache_hits + EXCLUDED.cache_hits
),
fold_rollup_by_user_week_folded AS (
    INSERT INTO rollup_by_user_week_folded AS r (project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits)
    SELECT project_id, date_trunc('week', bucket, 'UTC'), user_id, sum(calls), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens), sum(cost_pico), sum(unpriced_calls), sum(errors), sum(retries), sum(fallbacks), sum(cache_hits)
    FROM cells GROUP BY 1, 2, 3
    ON CONFLICT (project_id, bucket, user_id) DO UPDATE
    SET calls = r.calls + EXCLUDED.calls, tokens_in = r.tokens_in + EXCLUDED.tokens_in, tokens_out = r.tokens_out + EXCLUDED.tokens_out, cached_tokens = r.cached_tokens + EXCLUDED.cached_tokens, cache_write_tokens = r.cache_write_tokens + EXCLUDED.cache_write_tokens, cost_pico = r.cost_pico + EXCLUDED.cost_pico, unpriced_calls = r.unpriced_calls + EXCLUDED.unpriced_calls, errors = r.errors + EXCLUDED.errors, retries = r.retries + EXCLUDED.retries, fallbacks = r.fallbacks + EXCLUDED.fallbacks, cache_hits = r.cache_hits + EXCLUDED.cache_hits
)
SELECT count(*) FROM moved;

-- 2. The minute level, filled from the raw events still kept (older minutes have no raw events to
--    answer from either, before or after this migration). Every per-user rollup is now folded, so
--    the raw events are exactly what the folded tables count.
CREATE TABLE rollup_by_user_minute_folded (LIKE rollup_by_user_hour_folded);
INSERT INTO rollup_by_user_minute_folded (project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits)
SELECT project_id, date_trunc('minute', ts), coalesce(user_id, ''), count(*), sum(tokens_in), sum(tokens_out), sum(cached_tokens),
       sum(cache_write_tokens), coalesce(sum(cost_pico), 0), count(*) FILTER (WHERE cost_pico IS NULL),
       count(*) FILTER (WHERE status = 'error'), sum(retries), count(*) FILTER (WHERE fallback_triggered), count(*) FILTER (WHERE cache_hit)
FROM events GROUP BY 1, 2, 3;
ALTER TABLE rollup_by_user_minute_folded ADD PRIMARY KEY (project_id, bucket, user_id);
CREATE INDEX rollup_by_user_minute_folded_user ON rollup_by_user_minute_folded (project_id, user_id, bucket);

-- 3. Views: pending buckets are minutes now, so the hour views truncate them.
CREATE OR REPLACE VIEW rollup_user_hour AS
SELECT project_id, bucket, user_id, feature, model, environment, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits FROM rollup_user_hour_folded
UNION ALL
SELECT project_id, date_trunc('hour', bucket, 'UTC'), user_id, feature, model, environment, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits FROM rollup_user_pending_cells;
CREATE OR REPLACE VIEW rollup_by_user_hour AS
SELECT project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits FROM rollup_by_user_hour_folded
UNION ALL
SELECT project_id, date_trunc('hour', bucket, 'UTC'), user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits FROM rollup_user_pending_cells;
CREATE VIEW rollup_by_user_minute AS
SELECT project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits FROM rollup_by_user_minute_folded
UNION ALL
SELECT project_id, bucket, user_id, calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits FROM rollup_user_pending_cells;
