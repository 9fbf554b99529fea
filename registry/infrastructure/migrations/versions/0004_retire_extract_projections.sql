-- The four extract_* projections became one, `extracts`, over one copy of the
-- students and periods. Their schemas hold only what the log rebuilds; the
-- messages they wrote stay in the outbox, and `extracts` derives the same
-- message ids, so it sends none of them again. Dropped, so no retired
-- projection is left behind to show a growing lag.
DO $$
DECLARE s text;
BEGIN
  FOR s IN SELECT schema_name FROM projection_tracking
           WHERE name IN ('extract_cbs', 'extract_inspectie', 'extract_gemeenten',
                          'extract_svb')
  LOOP
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', s);
  END LOOP;
  DELETE FROM projection_tracking
  WHERE name IN ('extract_cbs', 'extract_inspectie', 'extract_gemeenten', 'extract_svb');
END $$;
