"""A database without the README's DBA steps: `migrate` and `dev.py run` / `dev.py test` stop with one
paragraph naming what is missing and the command that fixes it, never a traceback; after the README's
DBA script (deploy/dba-setup.sh) the same database passes.

The bare database is made from template0 (no extension) and owned by a role that is not a superuser: a
role made for the test where the tests run as a superuser (the embedded server), else the tests' own
role (an external server set up by the DBA script, whose role may create databases but not roles).
"""

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings

from cxm.stack.external import database_url_problems

ROOT = Path(__file__).resolve().parents[2]


def _url(**changes) -> str:
    return urlunsplit(urlsplit(settings.DATABASE_URL)._replace(**changes))


def _admin(sql: str, *params) -> None:
    with psycopg.connect(_url(path="/postgres"), autocommit=True) as connection:
        connection.execute(sql, params)


def _is_superuser() -> bool:
    with psycopg.connect(_url(path="/postgres")) as connection:
        return connection.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]


@pytest.fixture
def bare_database():
    """(url, database, role, made_role) for a fresh database without extensions, owned by a role that is
    not a superuser."""
    parts = urlsplit(settings.DATABASE_URL)
    database = f"cxm_bare_{secrets.token_hex(4)}"
    made_role = _is_superuser()
    if made_role:
        role, password = f"cxm_bare_{secrets.token_hex(4)}", secrets.token_urlsafe(12)
        _admin(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    else:
        role, password = parts.username, parts.password
    _admin(f'CREATE DATABASE {database} OWNER "{role}" TEMPLATE template0')
    netloc = f"{role}:{password}@{parts.hostname}:{parts.port}"
    yield _url(netloc=netloc, path=f"/{database}"), database, role, made_role
    _admin(f"DROP DATABASE {database} WITH (FORCE)")
    if made_role:
        _admin(f"DROP ROLE {role}")


def _run(url: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "CXM_VAR_DIR": str(tmp_path)}
    env.pop("CXM_TESTING", None)
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=240
    )


def test_migrate_without_pgvector_says_which_command_fixes_it(bare_database, tmp_path):
    url, database, role, _ = bare_database
    result = _run(url, "manage.py", "migrate", "--no-input", tmp_path=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert f'The extension "vector" is not created in database "{database}"' in output
    assert "only a superuser may create it" in output
    assert f"psql -d {database} -c 'CREATE EXTENSION vector'" in output
    assert f"deploy/dba-setup.sh {database} {role}" in output
    # The trusted extensions, which the database's owner may create, are not reported.
    assert '"pg_trgm"' not in output and '"unaccent"' not in output


def test_dev_py_run_stops_before_migrate_with_the_same_paragraph(bare_database, tmp_path):
    url, database, _, _ = bare_database
    result = _run(url, "-m", "cxm.stack", "run", tmp_path=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert (
        f'the database is not ready for CXM: The extension "vector" is not created in database "{database}"'
        in output
    )
    assert "applying migrations" not in output


def test_a_database_that_does_not_exist_is_said_in_one_line(bare_database, tmp_path):
    url, database, _, _ = bare_database
    missing = urlunsplit(urlsplit(url)._replace(path=f"/{database}_missing"))
    result = _run(missing, "-m", "cxm.stack", "run", tmp_path=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert f'database "{database}_missing" does not exist' in result.stdout


@pytest.fixture
def dba_script():
    """Runs the README's DBA script as the superuser the tests connect as (the embedded server)."""
    if not _is_superuser() or shutil.which("psql") is None:
        pytest.skip("needs the tests' role to be a superuser, and psql: the DBA script is run as one")
    parts = urlsplit(settings.DATABASE_URL)
    env = {**os.environ, "PGHOST": parts.hostname, "PGPORT": str(parts.port), "PGUSER": parts.username}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["sh", str(ROOT / "deploy" / "dba-setup.sh"), *args], env=env, capture_output=True, text=True
        )

    return run


def test_after_the_dba_script_migrate_checks_pass(bare_database, dba_script, tmp_path):
    url, database, role, _ = bare_database
    result = dba_script(database, role)
    assert result.returncode == 0, result.stderr
    assert database_url_problems(url, for_tests=False) == []
    checked = _run(url, "manage.py", "check", "--database", "default", tmp_path=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_test_runner_needs_createdb_and_pgvector_in_template1(bare_database):
    url, database, role, made_role = bare_database
    if not made_role:
        pytest.skip("the tests' role already has what the test runner needs")
    problems = database_url_problems(url, for_tests=True)
    assert len(problems) == 2, problems
    assert f"psql -c 'ALTER ROLE \"{role}\" CREATEDB'" in problems[0]
    assert "psql -d template1 -c 'CREATE EXTENSION vector'" in problems[1]
    assert all(f"deploy/dba-setup.sh {database} {role} --tests" in problem for problem in problems)
