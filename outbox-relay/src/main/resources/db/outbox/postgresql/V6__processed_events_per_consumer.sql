-- Each consumer (a read model, a notifier: each listener that processes the events on its own) keeps its own record
-- of the event ids it processed, so that one consumer's ids never make another skip an event.
--
-- The ids recorded before this migration belonged to no named consumer: they are kept with the consumer '', and
-- recording an id as processed treats an id recorded under '' as processed for every consumer, so that an upgrade
-- processes no event twice. They go with the retention purge like any other.
ALTER TABLE ${outbox_table}_processed ADD COLUMN consumer text NOT NULL DEFAULT '';
ALTER TABLE ${outbox_table}_processed ALTER COLUMN consumer DROP DEFAULT;

-- The primary key's name was chosen by PostgreSQL (and shortened for long table names): look it up.
DO $$
BEGIN
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', '${outbox_table}_processed',
                   (SELECT conname FROM pg_constraint
                    WHERE conrelid = '${outbox_table}_processed'::regclass AND contype = 'p'));
END
$$;
ALTER TABLE ${outbox_table}_processed ADD PRIMARY KEY (consumer, event_id);
