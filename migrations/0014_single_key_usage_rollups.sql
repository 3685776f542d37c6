-- Usage by feature alone and by model alone (hour, day, week), folded like 0010's
-- rollup_feature_model from the same pending usage rows. "Daily cost by feature" or "tokens by model"
-- read ~1,000 feature × model rows per bucket from rollup_feature_model (50 features × 20 models on
-- the benchmark data) to answer 50 or 20 groups; these families hold one row per bucket and feature
-- (or model). The reader picks the narrowest family that holds every dimension a query uses.

-- No compactor may fold while the new tables are filled (RollupCompactor's lock).
SELECT pg_advisory_xact_lock(32771354007661676);
SET LOCAL work_mem = '256MB';
SET LOCAL maintenance_work_mem = '512MB';

DO $$
DECLARE
    columns text := 'calls, tokens_in, tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, '
                    'fallbacks, cache_hits, latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, '
                    'miss_cost_pico, ttft_sum_ms, ttft_count';
    sums text;
    family record;
    level text;
    folded text;
BEGIN
    SELECT string_agg(format('sum(%I)', c), ', ') INTO sums FROM unnest(string_to_array(columns, ', ')) AS c;
    FOR family IN SELECT * FROM (VALUES ('rollup_by_feature', 'feature', 'model'), ('rollup_by_model', 'model', 'feature')) AS f (prefix, key, other) LOOP
        FOREACH level IN ARRAY ARRAY['hour', 'day', 'week'] LOOP
            folded := family.prefix || '_' || level || '_folded';
            EXECUTE format('CREATE TABLE %I (LIKE %I)', folded, 'rollup_feature_model_' || level || '_folded');
            EXECUTE format('ALTER TABLE %I DROP COLUMN %I', folded, family.other);
            EXECUTE format('INSERT INTO %I (project_id, bucket, %I, %s) SELECT project_id, bucket, %I, %s FROM %I GROUP BY 1, 2, 3',
                           folded, family.key, columns, family.key, sums, 'rollup_feature_model_' || level || '_folded');
            -- The key after the fill: one index build instead of an insert per row.
            EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (project_id, bucket, %I)', folded, family.key);
            -- As in 0010: the view with the name without _folded adds the pending rows.
            EXECUTE format('CREATE VIEW %I AS SELECT project_id, bucket, %I, %s FROM %I '
                           'UNION ALL SELECT project_id, date_trunc(%L, bucket, ''UTC''), %I, %s FROM rollup_usage_pending_cells',
                           family.prefix || '_' || level, family.key, columns, folded, level, family.key, columns);
        END LOOP;
    END LOOP;
END $$;
