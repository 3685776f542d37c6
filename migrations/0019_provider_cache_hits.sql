-- Provider prompt-cache hits in every usage and per-user rollup: the calls the provider's prompt
-- cache served some input tokens of (cached_tokens > 0). Until now only the cached tokens were
-- summed, so "how many calls hit the prompt cache" had no answer from the rollups.
--
-- Every folded table gets the column, filled from the raw events still kept; buckets whose raw
-- events retention has already dropped keep 0 (nothing else knows their count). Pending rows get
-- zeros, and their events are counted in the folded tables instead, so the sum of both stays exact.
-- An instance still running an older binary during the upgrade writes pending rows without the
-- column (NULL, counted as 0 by the folds and the reads).

-- No compactor may fold while the columns are filled (RollupCompactor's lock).
SELECT pg_advisory_xact_lock(32771354007661676);
SET LOCAL work_mem = '256MB';

ALTER TABLE rollup_usage_pending ADD COLUMN provider_cache_hits bigint[];
ALTER TABLE rollup_user_pending ADD COLUMN provider_cache_hits bigint[];
-- As the other array columns (0006): compressing them cost more than the bytes saved.
ALTER TABLE rollup_usage_pending ALTER COLUMN provider_cache_hits SET STORAGE EXTERNAL;
ALTER TABLE rollup_user_pending ALTER COLUMN provider_cache_hits SET STORAGE EXTERNAL;
UPDATE rollup_usage_pending SET provider_cache_hits = array_fill(0::bigint, ARRAY[cardinality(calls)]);
UPDATE rollup_user_pending SET provider_cache_hits = array_fill(0::bigint, ARRAY[cardinality(calls)]);

-- The raw counts per minute and key, once for every table below.
CREATE TEMP TABLE tm_provider_hits_usage ON COMMIT DROP AS
SELECT project_id, date_trunc('minute', ts, 'UTC') AS bucket, coalesce(feature, '') AS feature, coalesce(model, '') AS model,
       coalesce(provider, '') AS provider, coalesce(environment, '') AS environment, status, coalesce(step_type, '') AS step_type,
       count(*) AS n
FROM events WHERE cached_tokens > 0 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
CREATE TEMP TABLE tm_provider_hits_user ON COMMIT DROP AS
SELECT project_id, date_trunc('minute', ts, 'UTC') AS bucket, coalesce(user_id, '') AS user_id, coalesce(feature, '') AS feature,
       coalesce(model, '') AS model, coalesce(environment, '') AS environment, count(*) AS n
FROM events WHERE cached_tokens > 0 GROUP BY 1, 2, 3, 4, 5, 6;

DO $$
DECLARE
    target record;
    keys text;
    bucket_of_raw text;
    bucket_of_pending text;
    zeros text;
    zero_values text;
    columns text;
    pending_columns text;
BEGIN
    -- The cells of pending rows with the new column (0010's views, one column longer).
    FOR target IN SELECT * FROM (VALUES ('rollup_usage_pending'), ('rollup_user_pending')) AS t (pending) LOOP
        SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) INTO columns
        FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = target.pending AND column_name NOT IN ('id', 'project_id', 'bucket');
        SELECT string_agg('p.' || column_name, ', ' ORDER BY ordinal_position) INTO pending_columns
        FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = target.pending AND column_name NOT IN ('id', 'project_id', 'bucket');
        EXECUTE format('CREATE OR REPLACE VIEW %I AS SELECT p.project_id, p.bucket, %s FROM %I p CROSS JOIN LATERAL unnest(%s) AS u (%s)',
                       target.pending || '_cells', (SELECT string_agg('u.' || c, ', ') FROM unnest(string_to_array(columns, ', ')) AS c),
                       target.pending, pending_columns, columns);
    END LOOP;

    FOR target IN SELECT * FROM (VALUES
            ('rollup_minute', 'minute', 'feature, model, provider, environment, status, step_type', 'usage'),
            ('rollup_hour', 'hour', 'feature, model, provider, environment, status, step_type', 'usage'),
            ('rollup_day', 'day', 'feature, model, provider, environment, status, step_type', 'usage'),
            ('rollup_feature_model_hour', 'hour', 'feature, model', 'usage'),
            ('rollup_feature_model_6h', '6h', 'feature, model', 'usage'),
            ('rollup_feature_model_day', 'day', 'feature, model', 'usage'),
            ('rollup_feature_model_week', 'week', 'feature, model', 'usage'),
            ('rollup_feature_model_2w', '2w', 'feature, model', 'usage'),
            ('rollup_by_feature_hour', 'hour', 'feature', 'usage'),
            ('rollup_by_feature_day', 'day', 'feature', 'usage'),
            ('rollup_by_feature_week', 'week', 'feature', 'usage'),
            ('rollup_by_model_hour', 'hour', 'model', 'usage'),
            ('rollup_by_model_day', 'day', 'model', 'usage'),
            ('rollup_by_model_week', 'week', 'model', 'usage'),
            ('rollup_user_hour', 'hour', 'user_id, feature, model, environment', 'user'),
            ('rollup_user_day', 'day', 'user_id, feature, model, environment', 'user'),
            ('rollup_by_user_minute', 'minute', 'user_id', 'user'),
            ('rollup_by_user_hour', 'hour', 'user_id', 'user'),
            ('rollup_by_user_day', 'day', 'user_id', 'user'),
            ('rollup_by_user_week', 'week', 'user_id', 'user')) AS t (name, level, keys, family) LOOP
        keys := target.keys;
        -- PendingRollup.bucket in Swift: 6-hour buckets from 2000-01-01, fortnights from Monday 1970-01-05.
        bucket_of_raw := CASE target.level
            WHEN '6h' THEN 'date_bin(''6 hours'', bucket, TIMESTAMPTZ ''2000-01-01 00:00:00+00'')'
            WHEN '2w' THEN 'date_bin(''14 days'', bucket, TIMESTAMPTZ ''1970-01-05 00:00:00+00'')'
            WHEN 'minute' THEN 'bucket'
            ELSE format('date_trunc(%L, bucket, ''UTC'')', target.level) END;
        bucket_of_pending := replace(bucket_of_raw, 'bucket', 'p.bucket');

        EXECUTE format('ALTER TABLE %I ADD COLUMN provider_cache_hits bigint NOT NULL DEFAULT 0', target.name || '_folded');

        -- Existing rows take the count of their bucket and key.
        EXECUTE format('UPDATE %I AS r SET provider_cache_hits = c.n FROM (SELECT project_id, %s AS bucket, %s, sum(n)::bigint AS n FROM %I GROUP BY %s) AS c '
                       'WHERE r.project_id = c.project_id AND r.bucket = c.bucket AND %s',
                       target.name || '_folded', bucket_of_raw, keys, 'tm_provider_hits_' || target.family,
                       (SELECT string_agg(i::text, ', ') FROM generate_series(1, 2 + cardinality(string_to_array(keys, ', '))) AS i),
                       (SELECT string_agg(format('r.%1$I = c.%1$I', k), ' AND ') FROM unnest(string_to_array(keys, ', ')) AS k));

        -- A key that only pending rows hold yet gets a row of zeros with the count: the fold adds
        -- the pending cells (whose new column is 0) to it later.
        SELECT string_agg(column_name, ', ' ORDER BY ordinal_position), string_agg('0', ', ')
        INTO zeros, zero_values
        FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = target.name || '_folded'
          AND column_name <> ALL (ARRAY['project_id', 'bucket', 'provider_cache_hits'] || string_to_array(keys, ', '));
        EXECUTE format('INSERT INTO %I (project_id, bucket, %s, %s, provider_cache_hits) '
                       'SELECT project_id, bucket, %s, %s, n FROM (SELECT project_id, %s AS bucket, %s, sum(n)::bigint AS n FROM %I GROUP BY %s) AS c '
                       'WHERE (project_id, bucket, %s) IN (SELECT p.project_id, %s, %s FROM %I p) '
                       'ON CONFLICT DO NOTHING',
                       target.name || '_folded', keys, zeros, keys, zero_values, bucket_of_raw, keys, 'tm_provider_hits_' || target.family,
                       (SELECT string_agg(i::text, ', ') FROM generate_series(1, 2 + cardinality(string_to_array(keys, ', '))) AS i),
                       keys, bucket_of_pending, (SELECT string_agg('p.' || k, ', ') FROM unnest(string_to_array(keys, ', ')) AS k),
                       CASE target.family WHEN 'usage' THEN 'rollup_usage_pending_cells' ELSE 'rollup_user_pending_cells' END);

        -- The view adds the pending cells, as before, with the new column last.
        SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) INTO columns
        FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = target.name || '_folded';
        EXECUTE format('CREATE OR REPLACE VIEW %I AS SELECT %s FROM %I UNION ALL SELECT %s FROM %I p',
                       target.name, columns, target.name || '_folded',
                       replace(columns, 'project_id, bucket,', 'p.project_id, ' || bucket_of_pending || ','),
                       CASE target.family WHEN 'usage' THEN 'rollup_usage_pending_cells' ELSE 'rollup_user_pending_cells' END);
    END LOOP;
END $$;
