#!/bin/sh
# CXM: the one-time database setup, run by someone who can connect to PostgreSQL as a superuser.
#
#     deploy/dba-setup.sh DATABASE ROLE [--tests]
#
#   e.g. on the database server:   sudo -u postgres deploy/dba-setup.sh cxm cxm
#   or from elsewhere:             PGHOST=db.example.com PGUSER=postgres deploy/dba-setup.sh cxm cxm
#
# Creates ROLE (login, not a superuser; password from CXM_DB_PASSWORD when set) and DATABASE owned by
# it, and the extensions vector, pg_trgm and unaccent in it. With --tests (a server the test suite uses
# as well): ROLE may create databases, and template1 has vector, so the suite's own database gets it.
# psql connects with the usual PG* variables (PGHOST, PGPORT, PGUSER ...). Safe to run again.
set -eu

if [ "$#" -lt 2 ]; then
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
tests=false
if [ "${3:-}" = "--tests" ]; then tests=true; fi

exec psql --no-psqlrc --quiet -d "${PGDATABASE:-postgres}" \
    -v db="$1" -v role="$2" -v password="${CXM_DB_PASSWORD:-}" -v tests="$tests" \
    -f "$(dirname "$0")/dba-setup.sql"
