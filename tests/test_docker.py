"""docker/compose.yaml, docker/Dockerfile and docker/entrypoint.sh, read against what the app reads.

No Docker engine runs where the tests run, so the files are checked by parsing them: every variable
the app needs in a container is set, every variable set is one something reads, every service the app
needs is there (PostgreSQL with pgvector, Redis, Elasticsearch when configured, web, worker, beat), the
workers consume every queue a task is routed to (read from the Celery settings), every process a
service asks for exists, and the health checks ask for URLs that Django resolves and answers.
"""

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.core.management import get_commands
from django.test import Client
from django.urls import resolve

from apps.core.prerequisites import MIN_POSTGRES_MAJOR

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
ENTRYPOINT = (DOCKER / "entrypoint.sh").read_text()
DOCKERFILE = (DOCKER / "Dockerfile").read_text()
# What the app's processes run: the services built from this repository's image.
APP_SERVICES = {name: service for name, service in SERVICES.items() if "build" in service}

# Variables whose default only suits `dev.py run` on one machine: in containers each must be given.
REQUIRED_IN_CONTAINERS = {
    "SECRET_KEY": "the default is generated per data folder, so web and worker would sign and encrypt apart",
    "DATABASE_URL": "the default is the embedded PostgreSQL on 127.0.0.1",
    "REDIS_URL": "the default is the embedded Redis on 127.0.0.1",
    "ALLOWED_HOSTS": "the default allows only the local development names",
}
# Read by the programs the entrypoint starts, not by our code.
READ_BY_SERVERS = {"WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "DJANGO_SETTINGS_MODULE", "PYTHONPATH"}


def _read_by_the_app() -> set[str]:
    """Every environment variable our Python code or the entrypoint reads."""
    pattern = re.compile(
        r'(?:os\.environ\.get|os\.environ\[|os\.getenv|env_bool|env_list)\(?\s*"([A-Z0-9_]+)"'
    )
    names = set()
    for path in [*ROOT.glob("apps/**/*.py"), *ROOT.glob("cxm/*.py")]:
        names |= set(pattern.findall(path.read_text()))
    return names | set(re.findall(r"\$\{([A-Z0-9_]+)", ENTRYPOINT))


def _interpolated(value) -> str | None:
    """The value compose gives a variable: its `${VAR:-default}` defaults applied; None when it would be
    empty. `${VAR:?message}` counts as set: compose refuses to start without it."""
    value = str(value)
    value = re.sub(r"\$\{[A-Z0-9_]+:\?[^}]*\}", "<required>", value)
    value = re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)
    value = re.sub(r"\$\{[A-Z0-9_]+\}", "", value)
    return value or None


def _environment(service: dict) -> dict[str, str | None]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
    return {name: _interpolated(value) for name, value in environment.items()}


def _entrypoint_commands() -> set[str]:
    return set(re.findall(r"^\s{4}([a-z-]+)\)", ENTRYPOINT, re.MULTILINE))


def _command(service: dict) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def _image_major(image: str) -> int:
    return int(re.search(r":\D*(\d+)", image).group(1))


def test_every_variable_the_app_needs_in_a_container_is_set_in_each_app_service():
    read = _read_by_the_app()
    assert set(REQUIRED_IN_CONTAINERS) <= read, "a required variable is no longer read by the app"
    for name, service in APP_SERVICES.items():
        environment = _environment(service)
        missing = {var for var in REQUIRED_IN_CONTAINERS if not environment.get(var)}
        assert not missing, f"service {name} lacks {missing}: {[REQUIRED_IN_CONTAINERS[m] for m in missing]}"


def test_every_variable_compose_sets_for_the_app_is_read_by_something():
    read = _read_by_the_app() | READ_BY_SERVERS
    for name, service in APP_SERVICES.items():
        unknown = set(_environment(service)) - read
        assert not unknown, f"service {name} sets {unknown}, which nothing reads (a typo?)"


def test_the_backing_services_are_there_and_the_urls_point_at_them():
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(SERVICES)
    postgres = SERVICES["postgres"]
    assert "pgvector" in postgres["image"], "the app's migrations create the vector extension"
    assert _image_major(postgres["image"]) >= MIN_POSTGRES_MAJOR
    assert _image_major(SERVICES["redis"]["image"]) >= 7
    pg_env = _environment(postgres)
    for name, service in APP_SERVICES.items():
        environment = _environment(service)
        database = urlsplit(environment["DATABASE_URL"])
        assert (database.hostname, database.port or 5432) == ("postgres", 5432), name
        assert database.username == pg_env["POSTGRES_USER"], name
        assert database.password == pg_env["POSTGRES_PASSWORD"], name
        assert database.path == f"/{pg_env['POSTGRES_DB']}", name
        redis = urlsplit(environment["REDIS_URL"])
        assert (redis.scheme, redis.hostname, redis.port or 6379) == ("redis", "redis", 6379), name
        # Elasticsearch is optional; when the app is pointed at one, it is a service of this file, on 8.x.
        if search := environment.get("ELASTICSEARCH_URL"):
            host = urlsplit(search).hostname
            assert host in SERVICES, f"{name}: ELASTICSEARCH_URL points at {host}, which is no service"
            assert _image_major(SERVICES[host]["image"]) == 8


def test_each_app_service_runs_a_process_the_entrypoint_knows():
    known = _entrypoint_commands()
    assert {"web", "worker", "beat", "migrate", "manage", "healthcheck"} <= known
    processes = {name: _command(service) for name, service in APP_SERVICES.items()}
    assert {"web", "worker", "beat"} <= {command[0] for command in processes.values()}
    for name, command in processes.items():
        assert command[0] in known, f"service {name} runs {command[0]!r}, which the entrypoint does not know"
        if command[0] == "manage":
            assert command[1] in get_commands(), f"service {name}: no management command {command[1]!r}"
    # The processes wait for the migrations; migrate waits for the databases.
    for name, service in APP_SERVICES.items():
        if processes[name][0] != "migrate":
            assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    migrate = next(s for n, s in APP_SERVICES.items() if processes[n][0] == "migrate")
    assert {"postgres", "redis"} <= set(migrate["depends_on"])


def _queues_consumed(arguments: list[str], default: set[str]) -> set[str]:
    for option in ("-Q", "--queues"):
        for index, argument in enumerate(arguments):
            if argument == option:
                return set(arguments[index + 1].split(","))
            if argument.startswith(f"{option}="):
                return set(argument.split("=", 1)[1].split(","))
    return default


def test_the_workers_consume_every_queue_a_task_is_routed_to():
    from cxm.celery import app

    app.loader.import_default_modules()
    # A worker without -Q consumes the declared queues (or the default one when none is declared).
    declared = {queue.name for queue in app.conf.task_queues or ()} or {app.conf.task_default_queue}
    worker_line = re.search(r"^\s{4}worker\)\n(.*?);;", ENTRYPOINT, re.MULTILINE | re.DOTALL).group(1)
    base = shlex.split(worker_line.replace('"$@"', "").replace("\\\n", " "))
    consumed = set()
    for service in APP_SERVICES.values():
        command = _command(service)
        if command and command[0] == "worker":
            consumed |= _queues_consumed(base + command[1:], declared)
    routed = {
        app.amqp.router.route({}, name, (), {})["queue"].name
        for name in app.tasks
        if not name.startswith("celery.")
    }
    assert routed, "no task found"
    assert routed <= consumed, f"queues no worker consumes: {routed - consumed}"


@pytest.mark.django_db
def test_the_health_checks_ask_for_urls_the_app_answers():
    healthcheck = re.search(r"^\s{4}healthcheck\)\n(.*?);;", ENTRYPOINT, re.MULTILINE | re.DOTALL).group(1)
    urls = re.findall(r"http://127\.0\.0\.1:[^/\s\"']*(/[^\s\"']*)", healthcheck)
    for service in APP_SERVICES.values():
        test = service.get("healthcheck", {}).get("test", [])
        text = " ".join(test) if isinstance(test, list) else test
        urls += re.findall(r"https?://(?:localhost|127\.0\.0\.1)[^/\s\"']*(/[^\s\"']*)", text)
        assert "healthcheck" in text or not text or urls, "an app health check that asks for no URL"
    assert "web" in APP_SERVICES and APP_SERVICES["web"].get("healthcheck"), "web has no health check"
    assert urls
    for url in urls:
        path, _, query = url.partition("?")
        resolve(path)  # raises Resolver404 for a URL the app does not have
        # The liveness check answers without the other components (the tests' worker may be absent).
        response = Client().get(path, dict(p.split("=", 1) for p in query.split("&") if p))
        assert response.status_code == 200, (url, response.status_code)


def test_the_dockerfile_builds_what_compose_runs():
    # Every file the build copies from the repository exists.
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), f"COPY {path}: no such file"
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in DOCKERFILE
    assert re.search(r'^CMD \["(\w+)"\]', DOCKERFILE, re.MULTILINE).group(1) in _entrypoint_commands()
    # The Python the image builds on is the one pyproject.toml supports.
    python = re.search(r"^ARG PYTHON_VERSION=(\S+)", DOCKERFILE, re.MULTILINE).group(1)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f">={python}" in re.search(r'requires-python = "([^"]+)"', pyproject).group(1)
    # The settings module the image names exists, and the port it exposes is the one web listens on.
    module = re.search(r"DJANGO_SETTINGS_MODULE=(\S+)", DOCKERFILE).group(1)
    assert (ROOT / f"{module.replace('.', '/')}.py").exists()
    exposed = re.search(r"^EXPOSE (\d+)", DOCKERFILE, re.MULTILINE).group(1)
    assert f"${{PORT:-{exposed}}}" in ENTRYPOINT
    assert any(str(port).endswith(f":{exposed}") for port in SERVICES["web"].get("ports", []))
    # The build context leaves local state and secrets out.
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", "node_modules", "var", ".git", ".env"} <= ignored
