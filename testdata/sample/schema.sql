-- Table read by internal/source (-source postgres://…), loaded with
--   COPY usage_events FROM STDIN (FORMAT csv, HEADER true)
-- from usage_events.csv.gz (gzip -dc usage_events.csv.gz | psql -c "\copy …").
CREATE TABLE IF NOT EXISTS usage_events (
    id              text NOT NULL,
    event_type      text NOT NULL,
    customer_id     text NOT NULL,
    subscription_id text NULL,
    "timestamp"     timestamptz NOT NULL,
    properties      jsonb
);
CREATE INDEX IF NOT EXISTS usage_events_keyset ON usage_events ("timestamp", id COLLATE "C");
