-- Per-model and per-feature latency sketches at minute level, packed like the hour, day and week
-- rows of 0013 (one row per minute, group and metric with the sketch as two arrays).
--
-- A range that does not start and end on whole hours ("p95 by model over the last 24 h") took its
-- ragged ends from the wide minute sketches: one row per (minute, feature, model, provider,
-- environment, metric, sketch bucket), tens of thousands of rows for two partial hours, summed in
-- SQL. Under the soak's ingest that made `/v1/latency?from=-24h&group_by=model` the slowest
-- dashboard question (p50 620 ms); these minutes answer the same edges in ~2 rows per group and minute.

-- No compactor may fold while the new tables are filled (RollupCompactor's lock).
SELECT pg_advisory_xact_lock(32771354007661676);
SET LOCAL work_mem = '256MB';
SET LOCAL maintenance_work_mem = '512MB';

DO $$
DECLARE
    family record;
    t text;
BEGIN
    FOR family IN SELECT * FROM (VALUES ('sketch_by_model', 'model'), ('sketch_by_feature', 'feature')) AS f (prefix, key) LOOP
        t := family.prefix || '_minute';
        EXECUTE format('CREATE TABLE %I (LIKE %I)', t || '_folded', family.prefix || '_hour_folded');
        -- Everything folded so far is in the wide minute table; what is still pending is folded
        -- into the new tables too, once the compactor runs again.
        EXECUTE format('INSERT INTO %I (project_id, bucket, %I, metric, idx, count) '
                       'SELECT project_id, bucket, %I, metric, array_agg(idx ORDER BY idx), array_agg(n ORDER BY idx) '
                       'FROM (SELECT project_id, bucket, %I, metric, idx, sum(count)::bigint AS n FROM sketch_minute_folded GROUP BY 1, 2, 3, 4, 5) AS c '
                       'GROUP BY 1, 2, 3, 4', t || '_folded', family.key, family.key, family.key);
        EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (project_id, bucket, %I, metric)', t || '_folded', family.key);
        -- As in 0013: the view with the name without _folded unnests the rows and adds the pending cells.
        EXECUTE format('CREATE VIEW %I AS SELECT f.project_id, f.bucket, f.%I, f.metric, c.idx, c.count '
                       'FROM %I f CROSS JOIN LATERAL unnest(f.idx, f.count) AS c (idx, count) '
                       'UNION ALL SELECT project_id, bucket, %I, metric, idx, count FROM sketch_pending_cells',
                       t, family.key, t || '_folded', family.key);
    END LOOP;
END
$$;
