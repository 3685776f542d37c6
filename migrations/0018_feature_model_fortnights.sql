-- Usage by (feature, model) in 14-day buckets (fortnights), pairs of ISO weeks counted from Monday
-- 1970-01-05, above 0010's week level of rollup_feature_model. Every week bucket of a range was ~1,000
-- feature × model rows on the benchmark data, and a 30-day range holds four whole weeks, 40% of the rows
-- it summed; whole fortnights read half as many. A range's weeks begin on either parity, so fortnights
-- cover 2 or 3 of its 4 week buckets' reads (fortnight + week + ...), never more.

-- No compactor may fold while the new table is filled (RollupCompactor's lock).
SELECT pg_advisory_xact_lock(32771354007661676);
SET LOCAL work_mem = '256MB';

CREATE TABLE rollup_feature_model_2w_folded (LIKE rollup_feature_model_week_folded INCLUDING DEFAULTS);
-- Weeks nest in fortnights (both start on a Monday at 00:00 UTC), so the week rows sum up exactly.
INSERT INTO rollup_feature_model_2w_folded (project_id, bucket, feature, model, calls, tokens_in, tokens_out, cached_tokens,
    cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count,
    cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count)
SELECT project_id, date_bin('14 days', bucket, TIMESTAMPTZ '1970-01-05 00:00:00+00'), feature, model, sum(calls), sum(tokens_in),
       sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens), sum(cost_pico), sum(unpriced_calls), sum(errors), sum(retries),
       sum(fallbacks), sum(cache_hits), sum(latency_sum_ms), sum(latency_count), sum(cache_savings_pico), sum(miss_calls),
       sum(miss_priced_calls), sum(miss_cost_pico), sum(ttft_sum_ms), sum(ttft_count)
FROM rollup_feature_model_week_folded GROUP BY 1, 2, 3, 4
-- In key order, as in 0017: a fortnight's rows then share heap pages.
ORDER BY 1, 2, 3, 4;
ALTER TABLE rollup_feature_model_2w_folded ADD PRIMARY KEY (project_id, bucket, feature, model);

-- As in 0010: the view with the name without _folded adds the pending rows.
CREATE VIEW rollup_feature_model_2w AS SELECT project_id, bucket, feature, model, calls, tokens_in, tokens_out, cached_tokens,
    cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms, latency_count,
    cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count FROM rollup_feature_model_2w_folded
    UNION ALL SELECT project_id, date_bin('14 days', bucket, TIMESTAMPTZ '1970-01-05 00:00:00+00'), feature, model, calls, tokens_in,
    tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms,
    latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count FROM rollup_usage_pending_cells;
