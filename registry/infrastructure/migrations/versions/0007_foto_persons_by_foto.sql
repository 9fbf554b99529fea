-- A foto lists its 1,000 to 10,000 people at once. Keyed by the student's id
-- first, each of those rows went to a random page of the key; keyed by the
-- foto first, they go to a few adjacent pages. Redaction still finds a
-- person's fotos, by the index on the student's id alone.
ALTER TABLE foto_persons DROP CONSTRAINT IF EXISTS foto_persons_pkey;
ALTER TABLE foto_persons ADD CONSTRAINT foto_persons_pkey
  PRIMARY KEY (brin, schooljaar, soort, versie, student_id);
CREATE INDEX IF NOT EXISTS foto_persons_student ON foto_persons (student_id);
