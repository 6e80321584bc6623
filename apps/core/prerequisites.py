"""What CXM needs from its PostgreSQL before it can migrate, and the one-time command that provides it.

PostgreSQL 15 or later with pgvector, pg_trgm and unaccent. pgvector is not a trusted extension: the
app's role, which is not a superuser, cannot create it, so a DBA runs `deploy/dba-setup.sh` once (see
the README). When something is missing, `migrate` (through a system check) and `dev.py test` stop with
one paragraph that names it and the command that fixes it, instead of a traceback half-way through.

Plain DB-API: `cxm.stack` uses it before Django is set up.
"""

from __future__ import annotations

MIN_POSTGRES_MAJOR = 15
EXTENSIONS = ("vector", "pg_trgm", "unaccent")
# Suggested replies filter an HNSW index scan with `hnsw.iterative_scan`, new in pgvector 0.8.
MIN_VERSIONS = {"vector": (0, 8)}
# Where each extension comes from, for a server that does not have it at all.
PACKAGES = {
    "vector": "pgvector (Debian: deploy/install-debian.sh; PGDG repositories: postgresql-<major>-pgvector)",
    "pg_trgm": "PostgreSQL's contrib modules (Debian: postgresql-contrib)",
    "unaccent": "PostgreSQL's contrib modules (Debian: postgresql-contrib)",
}


def database_problems(cursor, *, for_tests: bool = False, app_database: str = "APP_DATABASE") -> list[str]:
    """One paragraph per problem; empty when the database is ready for `migrate`.

    With `for_tests`, the cursor is connected to template1, which the test runner copies into the
    database it creates (as the app's role, which then owns it): the role needs CREATEDB, and template1
    must already have the extensions the role may not create. `app_database` only names the app's own
    database in the command that fixes it.
    """
    cursor.execute(
        "SELECT current_setting('server_version_num')::int, current_setting('server_version'), "
        "current_database(), current_user, r.rolsuper, r.rolcreatedb, "
        "has_database_privilege(current_database(), 'CREATE'), has_schema_privilege('public', 'CREATE') "
        "FROM pg_roles r WHERE r.rolname = current_user"
    )
    version_num, version, database, role, superuser, createdb, may_create, may_create_tables = (
        cursor.fetchone()
    )
    if for_tests:
        may_create = may_create_tables = True  # the role will own the test database
    setup = (
        f"deploy/dba-setup.sh {app_database} {role} --tests"
        if for_tests
        else f"deploy/dba-setup.sh {database} {role}"
    )
    problems = []
    if version_num < MIN_POSTGRES_MAJOR * 10000:
        problems.append(
            f"PostgreSQL {version} is too old: CXM needs PostgreSQL {MIN_POSTGRES_MAJOR} or later "
            "(see the README's supported versions)."
        )
    if not (superuser or may_create_tables):
        problems.append(
            f'Role "{role}" may not create tables in schema "public" of database "{database}" (since '
            "PostgreSQL 15 only the database's owner may, by default). Once, as a PostgreSQL superuser: "
            f"psql -d {database} -c 'GRANT CREATE ON SCHEMA public TO \"{role}\"' (or {setup}, for a "
            "database the role owns)."
        )
    if for_tests and not (superuser or createdb):
        problems.append(
            f'Role "{role}" may not create databases, and the test runner creates its own. Once, as a '
            f"PostgreSQL superuser: psql -c 'ALTER ROLE \"{role}\" CREATEDB' (or {setup}, which does "
            "every step)."
        )
    cursor.execute(
        "SELECT e.name, e.installed_version, e.default_version, v.trusted FROM pg_available_extensions e "
        "LEFT JOIN pg_available_extension_versions v ON v.name = e.name AND v.version = e.default_version "
        "WHERE e.name = ANY(%s)",
        [list(EXTENSIONS)],
    )
    available = {
        name: (installed, default, trusted) for name, installed, default, trusted in cursor.fetchall()
    }
    for name in EXTENSIONS:
        if name not in available:
            problems.append(
                f'The PostgreSQL server has no "{name}" extension to create: install {PACKAGES[name]} on '
                f"the database server, then, as a PostgreSQL superuser, run {setup}."
            )
            continue
        installed, default, trusted = available[name]
        version = installed or default
        if name in MIN_VERSIONS and _version(version) < MIN_VERSIONS[name]:
            needed = ".".join(map(str, MIN_VERSIONS[name]))
            problems.append(
                f'The "{name}" extension is version {version}; CXM needs {needed} or later: install a '
                f"newer {PACKAGES[name]} on the database server, then, as a PostgreSQL superuser: psql -d "
                f"{database} -c 'ALTER EXTENSION {name} UPDATE'."
            )
            continue
        if installed or superuser or (trusted and may_create):
            continue
        why = (
            "it is not a trusted extension, so only a superuser may create it"
            if not trusted
            else f'the role lacks the CREATE privilege on database "{database}"'
        )
        problems.append(
            f'The extension "{name}" is not created in database "{database}", and role "{role}" may not '
            f"create it ({why}). Once, as a PostgreSQL superuser: psql -d {database} -c "
            f"'CREATE EXTENSION {name}' (or {setup}, which does every step)."
        )
    return problems


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())
