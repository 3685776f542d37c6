-- Faster answers to the three targeted 30-day questions (issue 4): p95 by model, top users by cost,
-- usage by feature and model.
--
-- 1. Packed sketches. The narrow sketch families of 0010 kept one row per (bucket, group, metric,
--    sketch bucket index): a 30-day p95 by model still merged ~160k such rows, and the hour rows at
--    the range's edges cost as much as the whole middle. Now each (bucket, group, metric) is ONE row
--    whose `idx` and `count` arrays hold the whole sketch (indexes ascending), so the same question
--    reads ~700 rows and the reader merges the arrays in Swift. The compactor folds pending cells
--    into them with `tm_sketch_add`. Views with the old names unnest the arrays, so anything that
--    reads `sketch_by_model_hour` & co. cell by cell sees the same rows as before.
-- 2. Ranked indexes on the per-user week table, so a top-N of users finds the few users that can be
--    in the top by an index scan per week instead of summing every user's weeks (see
--    PostgresUsageReader+TopUsers.swift for the bound that keeps the answer exact).

-- No compactor may fold while the packed tables are filled (RollupCompactor's lock).
SELECT pg_advisory_xact_lock(32771354007661676);
SET LOCAL work_mem = '256MB';
SET LOCAL maintenance_work_mem = '512MB';

-- The sum of two sketches given as (sorted indexes, counts): sorted indexes, counts summed per index.
CREATE FUNCTION tm_sketch_add(integer[], bigint[], integer[], bigint[], OUT idx integer[], OUT count bigint[])
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT array_agg(i ORDER BY i), array_agg(n ORDER BY i)
        FROM (SELECT i, sum(n)::bigint AS n FROM (SELECT * FROM unnest($1, $2) UNION ALL SELECT * FROM unnest($3, $4)) AS c (i, n) GROUP BY i) AS s
    $$;


-- Each narrow sketch table becomes one row per (bucket, group, metric); the view with the old name
-- unnests it (and adds the pending cells, as in 0010).
DO $$
DECLARE
    family record;
    level text;
    t text;
BEGIN
    FOR family IN SELECT * FROM (VALUES ('sketch_by_model', 'model'), ('sketch_by_feature', 'feature')) AS f (prefix, key) LOOP
        FOREACH level IN ARRAY ARRAY['hour', 'day', 'week'] LOOP
            t := family.prefix || '_' || level;
            EXECUTE format('DROP VIEW %I', t);
            EXECUTE format('CREATE TABLE %I (project_id bigint NOT NULL, bucket timestamptz NOT NULL, %I text NOT NULL, '
                           'metric smallint NOT NULL, idx integer[] NOT NULL, count bigint[] NOT NULL)', t || '_packed', family.key);
            EXECUTE format('INSERT INTO %I (project_id, bucket, %I, metric, idx, count) '
                           'SELECT project_id, bucket, %I, metric, array_agg(idx ORDER BY idx), array_agg(count ORDER BY idx) '
                           'FROM %I GROUP BY 1, 2, 3, 4', t || '_packed', family.key, family.key, t || '_folded');
            EXECUTE format('DROP TABLE %I', t || '_folded');
            EXECUTE format('ALTER TABLE %I RENAME TO %I', t || '_packed', t || '_folded');
            EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (project_id, bucket, %I, metric)', t || '_folded', family.key);
            EXECUTE format('CREATE VIEW %I AS SELECT f.project_id, f.bucket, f.%I, f.metric, c.idx, c.count '
                           'FROM %I f CROSS JOIN LATERAL unnest(f.idx, f.count) AS c (idx, count) '
                           'UNION ALL SELECT project_id, date_trunc(%L, bucket, ''UTC''), %I, metric, idx, count FROM sketch_pending_cells',
                           t, family.key, t || '_folded', level, family.key);
        END LOOP;
    END LOOP;
END
$$;

-- Per-user weeks ranked by each figure a top-N can rank by (PostgresUsageReader.rankedValue).
CREATE INDEX rollup_by_user_week_folded_cost ON rollup_by_user_week_folded (project_id, bucket, cost_pico);
CREATE INDEX rollup_by_user_week_folded_tokens ON rollup_by_user_week_folded (project_id, bucket, (tokens_in + tokens_out));
CREATE INDEX rollup_by_user_week_folded_calls ON rollup_by_user_week_folded (project_id, bucket, calls);
CREATE INDEX rollup_by_user_week_folded_errors ON rollup_by_user_week_folded (project_id, bucket, errors);
