-- What `registry status` and /metrics read cheaply: the recipients a relay
-- serves (its LIKE pattern; NULL: all), so what waits for it is counted per
-- recipient, and the last delivery's time from an index.
ALTER TABLE relay_positions ADD COLUMN IF NOT EXISTS recipients text;
CREATE INDEX IF NOT EXISTS intake_batches_received ON intake_batches (received_at);
