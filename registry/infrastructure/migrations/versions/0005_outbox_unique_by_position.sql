-- A message id is unique with the log position it derives from (the position
-- is part of what the id is keyed from, so one id has one position): the
-- index then grows at its right edge, as the log does. Unique on the random
-- ids alone, each message touched a random page of an index that outgrows
-- memory at national scale (docs/benchmarks-notes.md). A rebuilt projection
-- writes the same pairs and still sends nothing again.
ALTER TABLE outbox ADD CONSTRAINT outbox_message UNIQUE (source_position, message_id);
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_message_id_key;
