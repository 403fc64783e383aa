-- Run once by the postgres image, when its data volume is first initialised
-- (files in /docker-entrypoint-initdb.d/). Temporal's own databases (temporal,
-- temporal_visibility) are created by the temporal-schema job (temporal-sql-tool); this adds the
-- application's separate database and role.
--
-- The password is a development default: PostgreSQL is not published outside the compose
-- network. Change it (here and in INSCRIPTIONS_DATABASE_URL) before any real deployment.
-- Editing this file later has no effect on an existing volume (`docker compose down -v`
-- removes the volume, and all its data).

CREATE ROLE inscriptions WITH LOGIN PASSWORD 'inscriptions';
CREATE DATABASE inscriptions OWNER inscriptions;
REVOKE ALL ON DATABASE inscriptions FROM PUBLIC;
GRANT ALL ON DATABASE inscriptions TO inscriptions;
