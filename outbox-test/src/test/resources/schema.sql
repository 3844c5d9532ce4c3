CREATE TABLE IF NOT EXISTS payment (
    order_id VARCHAR(64) PRIMARY KEY,
    cents    BIGINT      NOT NULL
);
