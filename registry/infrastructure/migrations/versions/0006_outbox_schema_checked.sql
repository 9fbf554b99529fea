-- Whether the writer checked the payload against its topic's JSON Schema and
-- it passed. The relay checks only what no writer vouched for: the extracts
-- check each message as they write it, where its payload is made, rather than
-- the relay again on its one serial path to the broker. Rows from before this
-- migration are unchecked, so the relay checks them as it always did.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS schema_checked boolean NOT NULL DEFAULT false;

-- A message whose payload or topic changes after its check is checked again
-- before it is sent, whoever changed it: an update cannot keep the mark.
CREATE OR REPLACE FUNCTION outbox_unchecked_when_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.payload IS DISTINCT FROM OLD.payload OR NEW.topic IS DISTINCT FROM OLD.topic THEN
    NEW.schema_checked := false;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER outbox_unchecked_when_changed BEFORE UPDATE ON outbox
  FOR EACH ROW EXECUTE FUNCTION outbox_unchecked_when_changed();
