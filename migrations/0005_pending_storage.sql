-- Pending rollup rows live for seconds (until the compactor folds them) but their arrays are large
-- (one element per user or sketch cell of a batch): compressing them with pglz cost ~5% of the
-- database's CPU under ingest load. Store them out of line, uncompressed.
ALTER TABLE rollup_user_pending
    ALTER COLUMN user_id SET STORAGE EXTERNAL, ALTER COLUMN feature SET STORAGE EXTERNAL,
    ALTER COLUMN model SET STORAGE EXTERNAL, ALTER COLUMN environment SET STORAGE EXTERNAL,
    ALTER COLUMN calls SET STORAGE EXTERNAL, ALTER COLUMN tokens_in SET STORAGE EXTERNAL,
    ALTER COLUMN tokens_out SET STORAGE EXTERNAL, ALTER COLUMN cached_tokens SET STORAGE EXTERNAL,
    ALTER COLUMN cache_write_tokens SET STORAGE EXTERNAL, ALTER COLUMN cost_pico SET STORAGE EXTERNAL,
    ALTER COLUMN unpriced_calls SET STORAGE EXTERNAL, ALTER COLUMN errors SET STORAGE EXTERNAL,
    ALTER COLUMN retries SET STORAGE EXTERNAL, ALTER COLUMN fallbacks SET STORAGE EXTERNAL,
    ALTER COLUMN cache_hits SET STORAGE EXTERNAL;
ALTER TABLE sketch_pending
    ALTER COLUMN feature SET STORAGE EXTERNAL, ALTER COLUMN model SET STORAGE EXTERNAL,
    ALTER COLUMN provider SET STORAGE EXTERNAL, ALTER COLUMN environment SET STORAGE EXTERNAL,
    ALTER COLUMN metric SET STORAGE EXTERNAL, ALTER COLUMN idx SET STORAGE EXTERNAL,
    ALTER COLUMN count SET STORAGE EXTERNAL;
