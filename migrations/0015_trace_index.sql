-- Runaway-loop candidates (AlertSignalReader.traces) are the traces still stepping in the last
-- minutes; their steps of the last 6 hours are then read by trace. Without an index by trace that
-- read scanned 6 hours of every event each round (seconds of Postgres a minute at 20k events/s),
-- and 0011 had left `events` without one. Partitions created later inherit it.
SET LOCAL maintenance_work_mem = '512MB';
CREATE INDEX events_project_trace_ts ON events (project_id, trace_id, ts) WHERE trace_id IS NOT NULL;
