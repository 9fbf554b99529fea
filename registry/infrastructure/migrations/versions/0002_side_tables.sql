-- The baseline of the side tables: every table beside the log that cannot be
-- rebuilt from it, as each module made it at start before migrations. IF NOT
-- EXISTS throughout, so a database made that way is adopted as it is; the
-- ALTERs bring one made by an older release to the same shape.

-- The timeline's indexes on ranges with plain columns (projection schemas).
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Access: users, sessions, the audit of logins and reads, login throttling.
CREATE TABLE IF NOT EXISTS access_users (
  login text PRIMARY KEY,
  role text NOT NULL,
  brin text,
  recipient text,
  password_hash text NOT NULL,
  must_change boolean NOT NULL,
  password_set_at timestamptz NOT NULL,
  totp_secret text NOT NULL,
  CHECK ((role IN ('school', 'accountant')) = (brin IS NOT NULL)),
  CHECK ((role = 'agency') = (recipient IS NOT NULL))
);
CREATE TABLE IF NOT EXISTS access_sessions (
  token_hash text PRIMARY KEY,
  login text NOT NULL REFERENCES access_users ON DELETE CASCADE,
  expires_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS access_audit (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  login text NOT NULL,
  action text NOT NULL
);
ALTER TABLE access_users ADD COLUMN IF NOT EXISTS totp_last_step bigint;
CREATE TABLE IF NOT EXISTS access_throttle (
  scope text NOT NULL, subject text NOT NULL, failures int NOT NULL,
  last_at timestamptz NOT NULL, PRIMARY KEY (scope, subject));
CREATE INDEX IF NOT EXISTS access_throttle_last ON access_throttle (last_at);
CREATE TABLE IF NOT EXISTS access_reads (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  login text NOT NULL,
  role text NOT NULL,
  route text NOT NULL,
  brin text,
  subject uuid,
  rows int NOT NULL CHECK (rows >= 0)
);
CREATE INDEX IF NOT EXISTS access_reads_at ON access_reads (at);

-- The population register (a copy of the BRP's persons and its changes).
CREATE TABLE IF NOT EXISTS population_persons (
  bsn text PRIMARY KEY, achternaam text NOT NULL, voorvoegsel text,
  voornamen text NOT NULL, geboortedatum date NOT NULL, geslacht text NOT NULL,
  straatnaam text, huisnummer int, huisnummertoevoeging text, postcode text,
  plaatsnaam text, gemeente text, landcode text, geheim boolean NOT NULL,
  recorded_at timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS population_persons_name ON population_persons
  (lower(achternaam), lower(coalesce(voorvoegsel, '')), lower(voornamen),
   geboortedatum, geslacht);
CREATE TABLE IF NOT EXISTS population_changes (
  id bigserial PRIMARY KEY, bsn text NOT NULL, recorded_at timestamptz NOT NULL,
  old jsonb NOT NULL, new jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS population_status (
  id int PRIMARY KEY CHECK (id = 1), available boolean NOT NULL,
  since timestamptz NOT NULL);

-- Intake: batches and their feedback, records waiting on the register, the
-- enrolments a school delivered, onderwijsnummers issued.
CREATE TABLE IF NOT EXISTS intake_batches (
  brin text NOT NULL, aanleverpunt int NOT NULL, schooljaar text NOT NULL,
  batchnummer int NOT NULL, content_hash text NOT NULL, soort text NOT NULL,
  received_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
  feedback jsonb NOT NULL,
  PRIMARY KEY (brin, aanleverpunt, schooljaar, batchnummer));
CREATE TABLE IF NOT EXISTS intake_waiting (
  brin text NOT NULL, aanleverpunt int NOT NULL, schooljaar text NOT NULL,
  batchnummer int NOT NULL, meldingnummer int NOT NULL, soort text NOT NULL,
  record jsonb NOT NULL, since timestamptz NOT NULL,
  PRIMARY KEY (brin, aanleverpunt, schooljaar, batchnummer, meldingnummer));
ALTER TABLE intake_waiting ADD COLUMN IF NOT EXISTS who text;
CREATE INDEX IF NOT EXISTS intake_waiting_who ON intake_waiting (who);
CREATE TABLE IF NOT EXISTS intake_enrolments (
  enrolment_id uuid PRIMARY KEY, student_id uuid NOT NULL, brin text NOT NULL,
  ingangsdatum date NOT NULL, einddatum date, deleted boolean NOT NULL);
CREATE INDEX IF NOT EXISTS intake_enrolments_student ON intake_enrolments (student_id);
CREATE TABLE IF NOT EXISTS intake_issued (
  onderwijsnummer text PRIMARY KEY, surname text NOT NULL, prefix text NOT NULL,
  first_names text NOT NULL, birth date NOT NULL, sex text NOT NULL);
CREATE INDEX IF NOT EXISTS intake_issued_name ON intake_issued (surname, birth);
CREATE SEQUENCE IF NOT EXISTS intake_onderwijsnummer_serial;

-- Issued fotos (documents as issued, never recomputed) and whom each lists.
CREATE TABLE IF NOT EXISTS fotos (
  brin text NOT NULL, schooljaar text NOT NULL, soort text NOT NULL,
  versie int NOT NULL, content_hash text NOT NULL, position bigint NOT NULL,
  stand_per timestamptz NOT NULL, document jsonb NOT NULL,
  PRIMARY KEY (brin, schooljaar, soort, versie));
ALTER TABLE fotos ADD COLUMN IF NOT EXISTS signalen jsonb;
-- NULL: a foto issued before proofs, not yet listed in foto_persons.
ALTER TABLE fotos ADD COLUMN IF NOT EXISTS proof jsonb;
-- Who each foto lists, by the ids its numbers name: what redaction looks up
-- once the numbers are no longer known. A row goes when its entry is redacted.
CREATE TABLE IF NOT EXISTS foto_persons (
  brin text NOT NULL, schooljaar text NOT NULL, soort text NOT NULL,
  versie int NOT NULL, student_id uuid NOT NULL,
  PRIMARY KEY (student_id, brin, schooljaar, soort, versie));

-- The projector's tracking of the projections' schemas (blue/green).
CREATE TABLE IF NOT EXISTS projection_tracking (
  schema_name text PRIMARY KEY, name text NOT NULL, version int NOT NULL,
  position bigint NOT NULL DEFAULT 0, upto bigint, live boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now());
CREATE UNIQUE INDEX IF NOT EXISTS projection_tracking_live
  ON projection_tracking (name) WHERE live;
ALTER TABLE projection_tracking ADD COLUMN IF NOT EXISTS failed_at bigint;
ALTER TABLE projection_tracking ADD COLUMN IF NOT EXISTS failure text;

-- The outbox the extract projections write their messages to: shared by every
-- version of them, and what was sent cannot be sent again differently.
CREATE TABLE IF NOT EXISTS outbox (
  seq bigserial PRIMARY KEY, message_id uuid NOT NULL UNIQUE, recipient text NOT NULL,
  topic text NOT NULL, key text NOT NULL, kind text NOT NULL, payload jsonb NOT NULL,
  source_position bigint NOT NULL, recorded_at timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_recipient ON outbox (recipient, seq);
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS student_id uuid;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS redacted_at timestamptz;
CREATE INDEX IF NOT EXISTS outbox_student ON outbox (student_id)
  WHERE student_id IS NOT NULL;

-- The relay: how far each relay has sent, and messages the broker refused.
CREATE TABLE IF NOT EXISTS relay_positions (
  name text PRIMARY KEY, seq bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS outbox_refused (
  seq bigint PRIMARY KEY, message_id uuid NOT NULL, topic text NOT NULL,
  reason text NOT NULL, refused_at timestamptz NOT NULL DEFAULT now());
