-- The read model that the downstream consumer keeps from the order events. It stands for a search index or another
-- service's database and is written from the events alone; it shares this database only to keep the sample small.
CREATE TABLE order_view (
    id            bigint       PRIMARY KEY,
    customer      varchar(100) NOT NULL,
    product       varchar(100) NOT NULL,
    quantity      integer      NOT NULL,
    status        varchar(20)  NOT NULL,
    -- The order's version from the latest event applied: an event with this version or an older one is skipped.
    version       integer      NOT NULL,
    -- The outbox-event-id header of that event.
    last_event_id uuid,
    applied_at    timestamptz  NOT NULL
);
