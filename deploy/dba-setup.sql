-- CXM: the one-time steps a PostgreSQL superuser runs before the app's first `migrate`.
-- Safe to run again. Through deploy/dba-setup.sh, or by hand:
--
--     psql -U postgres -v db=cxm -v role=cxm -v password=SECRET -v tests=false -f deploy/dba-setup.sql
--
-- db, role: the database and the role the app connects as (DATABASE_URL). password: set when not empty.
-- tests: true on a server that `dev.py test` uses as well.
\set ON_ERROR_STOP on
\set QUIET on

-- The role the app logs in as: not a superuser; it owns its database, so `migrate` creates its tables.
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'password') WHERE :'password' <> '' \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'role', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec

-- pgvector is not a "trusted" extension: only a superuser may create it, so it is created here, once.
-- pg_trgm and unaccent are trusted (PostgreSQL 13+); creating them now too leaves `migrate` nothing to ask.
\connect :"db"
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

\if :tests
-- The test runner creates its own database (test_<db>) as the app's role, as a copy of template1, and
-- migrates it: the role needs CREATEDB, and template1 needs pgvector (which the role cannot create).
SELECT format('ALTER ROLE %I CREATEDB', :'role') \gexec
\connect template1
CREATE EXTENSION IF NOT EXISTS vector;
\endif

\echo 'CXM database setup done:' :db 'owned by' :role '(vector, pg_trgm, unaccent)'
