-- csworker database, schema and least-privilege roles. Run once per
-- environment by a database administrator (superuser, or a managed service's
-- admin role with CREATEROLE and CREATEDB); safe to run again.
--
--   psql "postgresql://admin@db.example.invalid/postgres" \
--        -v migrator_password="$MIGRATOR_PASSWORD" \
--        -v runtime_password="$RUNTIME_PASSWORD" \
--        -v console_password="$CONSOLE_PASSWORD" \
--        -f deploy/postgres-roles.sql
--
-- Leave out a -v ..._password to keep that role's current password (or to
-- authenticate it by certificate or IAM instead).
--
-- Three roles:
--   csworker_migrator  owns the database and the `csworker` schema; only
--                      `csworker migrate` (the migration Job, or
--                      csworker-migrate.service) connects as it.
--   csworker_runtime   what the workers, the sweep, `case show`, `status`
--                      `deadletters` and `outbox` connect as: the table rights
--                      `csworker migrate` grants it (SELECT, INSERT, UPDATE,
--                      DELETE as each table needs) and USAGE on the outbox
--                      sequence; it cannot create, alter, drop or truncate
--                      anything.
--   csworker_console   what `csworker console` (the web console) connects as:
--                      SELECT on the tables it shows, and for a dead-letter
--                      replay DELETE on processed_events, UPDATE (replayed_at)
--                      on outbox, INSERT on dead_letter_replays -- all granted
--                      by `csworker migrate` (CSE_CONSOLE_ROLE / --console-role,
--                      default csworker_console). NOINHERIT, no TEMPORARY;
--                      unused (and harmless) where the console is not deployed.
--
-- Table rights are `csworker migrate`'s job: after applying migrations it
-- sets the runtime role's rights (CSE_RUNTIME_ROLE / --runtime-role, default
-- csworker_runtime) to exactly what the workers and commands need, table by
-- table (README "Database roles"), and revokes anything more. This script
-- gives only CONNECT and TEMPORARY on the database (selfcheck writes a
-- temporary table) and USAGE on the schema, and withdraws the blanket
-- default privileges earlier versions of it set.

\set ON_ERROR_STOP on

SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'csworker_migrator') AS create_migrator \gset
\if :create_migrator
    CREATE ROLE csworker_migrator LOGIN;
\endif
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'csworker_runtime') AS create_runtime \gset
\if :create_runtime
    CREATE ROLE csworker_runtime LOGIN;
\endif
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'csworker_console') AS create_console \gset
\if :create_console
    CREATE ROLE csworker_console LOGIN;
\endif

\if :{?migrator_password}
    ALTER ROLE csworker_migrator PASSWORD :'migrator_password';
\endif
\if :{?runtime_password}
    ALTER ROLE csworker_runtime PASSWORD :'runtime_password';
\endif
\if :{?console_password}
    ALTER ROLE csworker_console PASSWORD :'console_password';
\endif

-- No inherited powers, no role creation, no replication: plain logins.
ALTER ROLE csworker_migrator NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE csworker_runtime NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
-- The console serves people over HTTP: it also inherits nothing from any role
-- it may be made a member of, so its rights stay exactly migrate's list.
ALTER ROLE csworker_console NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;

-- Connection budget: counted in ONE place, the table in deploy/README.md
-- ("Connection budget"): 3 sessions per worker process (`csworker config`
-- prints the count) for the KEDA ceiling of pods plus the rolling update's
-- surge pod and one pod still draining, plus the sweep CronJob, the one-off
-- Jobs and operators' commands. scripts/check-manifests.sh recomputes it from
-- the manifests and fails when a limit below is smaller: raise these with the
-- partition count (maxReplicaCount) and re-run this script.
ALTER ROLE csworker_runtime CONNECTION LIMIT 50;
-- The migrate Job, plus an operator's `csworker migrate` by hand.
ALTER ROLE csworker_migrator CONNECTION LIMIT 4;
-- The one console process: 2 sessions (its page session, and one more while
-- a dead-letter replay runs); the other 2 are slack for the sessions of a
-- console pod lost with its node, which the server keeps until TCP keepalive
-- drops them. Run exactly one console (its sign-in sessions are in memory).
ALTER ROLE csworker_console CONNECTION LIMIT 4;
-- A worker killed mid-transaction must not hold row locks for long.
ALTER ROLE csworker_runtime SET idle_in_transaction_session_timeout = '5min';
ALTER ROLE csworker_console SET idle_in_transaction_session_timeout = '5min';
-- The console sets 30 s on its page session itself; this covers the replay's.
ALTER ROLE csworker_console SET statement_timeout = '30s';

SELECT NOT EXISTS (SELECT FROM pg_database WHERE datname = 'csworker') AS create_database \gset
\if :create_database
    CREATE DATABASE csworker OWNER csworker_migrator;
\endif

REVOKE ALL ON DATABASE csworker FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE csworker TO csworker_runtime;
GRANT CONNECT ON DATABASE csworker TO csworker_console;

\connect csworker

-- Nobody creates objects in public (the default from PostgreSQL 15 on; older
-- servers allow it).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA IF NOT EXISTS csworker AUTHORIZATION csworker_migrator;
-- The application uses unqualified table names: every role resolves them in
-- the csworker schema only (pg_catalog is always searched first).
ALTER ROLE csworker_migrator IN DATABASE csworker SET search_path = csworker;
ALTER ROLE csworker_runtime IN DATABASE csworker SET search_path = csworker;
ALTER ROLE csworker_console IN DATABASE csworker SET search_path = csworker;

GRANT USAGE ON SCHEMA csworker TO csworker_runtime;
GRANT USAGE ON SCHEMA csworker TO csworker_console;

REVOKE CREATE ON SCHEMA csworker FROM csworker_runtime;
REVOKE CREATE ON SCHEMA csworker FROM csworker_console;

-- Earlier versions of this script granted every table to the runtime role by
-- default; `csworker migrate` now grants table by table.
ALTER DEFAULT PRIVILEGES FOR ROLE csworker_migrator IN SCHEMA csworker
    REVOKE ALL ON TABLES FROM csworker_runtime;
ALTER DEFAULT PRIVILEGES FOR ROLE csworker_migrator IN SCHEMA csworker
    REVOKE ALL ON SEQUENCES FROM csworker_runtime;
