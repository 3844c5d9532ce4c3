-- The outbox is a queue: every row is inserted once, read once by a claim, and deleted. This tunes the table for that.

-- Autovacuum by a fixed number of dead rows rather than a fraction of the table: with the default (20 % of the
-- table), a backlog of a million rows would collect 200,000 dead rows before a vacuum, and every claim would read
-- past their index entries at the front of the table. Vacuum runs without cost-based sleeps here, since the
-- table's pages are hot and a slow vacuum would fall behind the relay.
ALTER TABLE ${outbox_table} SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 10000,
    autovacuum_vacuum_cost_delay = 0,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 50000
);

-- No statement looks a row up by its key any more: the claim finds keys held elsewhere through the primary key, and
-- rows waiting for a retry have their own partial index (V3). Each insert no longer maintains this index.
DROP INDEX ${outbox_table}_key_id_idx;
