-- Run once by the PostgreSQL image at first start (docker-entrypoint-initdb.d).
-- registry_owner (the image's POSTGRES_USER) owns the schema and runs
-- `registry db migrate`; the services log in as registry_app, which owns no
-- side table and gets only what `registry db migrate --grant-to` grants it.
-- Set its password before use: ALTER ROLE registry_app PASSWORD '…';
CREATE ROLE registry_app LOGIN;
GRANT CONNECT, TEMPORARY ON DATABASE registry TO registry_app;
-- The projector creates its blue/green projection schemas itself.
GRANT CREATE ON DATABASE registry TO registry_app;
