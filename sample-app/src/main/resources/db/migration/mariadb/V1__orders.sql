-- The order service's own schema on MariaDB (10.7 or later, for the uuid type of V2). Spring Boot's Flyway applies
-- it and records it in flyway_schema_history; the outbox starter applies the outbox tables from its own scripts and
-- records them in outbox_schema_history, so the two version sequences never collide.
CREATE TABLE orders (
    id         bigint       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    customer   varchar(100) NOT NULL,
    product    varchar(100) NOT NULL,
    quantity   integer      NOT NULL CHECK (quantity > 0),
    status     varchar(20)  NOT NULL,
    -- Raised by every change; the order events carry it so that consumers can skip repeated and older events.
    version    integer      NOT NULL,
    created_at datetime(6)  NOT NULL,
    updated_at datetime(6)  NOT NULL
) ENGINE = InnoDB;
