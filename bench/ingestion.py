"""Ingestion throughput, end to end, next to the raw PostgreSQL COPY rate measured in the same run.

- COPY: N message rows COPY'd into a bare table shaped like conversations_message (no index or trigger:
  PostgreSQL's raw write rate), and into conversations_message itself, rolled back (its 13 indexes with the
  full-text GIN index, and the rollup triggers: the ceiling for storing messages).
- webhook path: signed HTTP POSTs to /hooks/<token>/ on the real ASGI server (one process beside two
  workers, as `dev.py run` starts them on one machine), taken by the webhook intake in front of Django
  (apps/ingestion/intake.py: one INSERT a request, tasks published in batches) → raw payloads → real Celery
  workers → threaded messages, identities and profiles in PostgreSQL. Timed from the first request to the
  last message stored; "HTTP accept" is the rate of the 200 answers alone. 10,000 messages by default:
  about ten seconds of sustained load, not mostly the start and the drain of the pipeline.
- Each path also prints the CPU it used a message, by kind of process (PostgreSQL, web, workers...).
- bulk import path: a JSON-lines file through `import_file` → raw payloads of ROWS_PER_PAYLOAD rows each →
  workers (a task a chunk) → messages. Timed from the start of the import to the last message stored.

Classification is off here, as the issue measures ingestion alone (CXM_CLASSIFY_ON_ARRIVAL=0: messages
wait for the classifier's sweep); classification.py measures the classification step's own rate.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Set before Django starts here and inherited by the workers and web servers started below.
os.environ["CXM_CLASSIFY_ON_ARRIVAL"] = "0"
os.environ.setdefault("LOG_LEVEL", "WARNING")  # a log line per task would bury the figures (and cost time)


def _setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")
    import django

    django.setup()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _message(run: str, n: int, thread_every: int = 4, **extra) -> dict:
    return {
        "id": f"{run}-{n}",
        "thread_id": f"{run}-t{n // thread_every}",
        "text": f"Hello, my order A-{n:05d} has not arrived yet, can you check? #{n}",
        "sent_at": "2026-11-20T10:00:00Z",
        "author": {"id": f"{run}-u{n % 5000}", "handle": f"@user{n % 5000}", "name": f"User {n % 5000}"},
        **extra,
    }


_COPY_COLUMNS = (
    "organization_id, conversation_id, channel_id, direction, external_id, text, html, language, sent_at, "
    "delivery_status, delivery_error, metadata, sentiment, intent, classification, classification_error, "
    "created_at, image_text, needs_reply"
)


def _copy(cursor, table: str, rows: int, conversation, prefix: str = "copy") -> float:
    """COPY `rows` message rows (the text the paths below ingest) into `table`; rows/s."""
    started = time.perf_counter()
    with cursor.copy(f"COPY {table} ({_COPY_COLUMNS}) FROM STDIN") as copy:
        for n in range(rows):
            copy.write_row(
                (
                    conversation.organization_id,
                    conversation.pk,
                    conversation.channel_id,
                    "inbound",
                    f"{prefix}-{n}",
                    f"Hello, my order A-{n:05d} has not arrived yet, can you check? #{n}",
                    "",
                    "en",
                    "2026-11-20 10:00:00+00",
                    "received",
                    "",
                    "{}",
                    "",
                    "",
                    "{}",
                    "",
                    "2026-11-20 10:00:00+00",
                    "",
                    "",
                )
            )
    return rows / (time.perf_counter() - started)


def copy_rates(channel, rows: int) -> tuple[float, float, float]:
    """Two limits for storing messages: COPY into a bare table shaped like conversations_message (no index,
    trigger or generated column: PostgreSQL's raw write rate), and COPY into conversations_message itself
    (its indexes, full-text GIN index and rollup triggers: the most any path can store), rolled back; and
    the same with its foreign keys checked (SET CONSTRAINTS ALL IMMEDIATE): Django's foreign keys are
    deferred to the commit, which the rolled-back COPY never reaches, while every stored message pays them
    (5 a message row: organisation, conversation, channel, author, raw payload)."""
    from django.db import connection, transaction

    from apps.conversations.models import Conversation
    from apps.customers.models import Customer

    with transaction.atomic():
        customer = Customer.objects.create(organization_id=channel.organization_id, display_name="copy")
        conversation = Conversation.objects.create(
            organization_id=channel.organization_id,
            brand_id=channel.brand_id,
            channel=channel,
            customer=customer,
            external_thread_id="bench-copy",
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_copy "
                "(LIKE conversations_message INCLUDING DEFAULTS INCLUDING IDENTITY) ON COMMIT DROP"
            )
            bare = _copy(cursor, "bench_copy", rows, conversation)
            real = _copy(cursor, "conversations_message", rows, conversation)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # also checks the rows above, untimed
            checked = _copy(cursor, "conversations_message", rows, conversation, prefix="checked")
        transaction.set_rollback(True)
    # The rolled-back rows are dead tuples in the table and its indexes, and in the rollups' dirty-bucket
    # table its trigger wrote to (a row an inbound message): vacuum them now, or autovacuum would do it
    # while the paths below are timed, and charge them the COPY's garbage (the refresh of the dashboards
    # would also scan them). The statistics of every table are brought up to date too: a path must not be
    # planned on the empty tables of a fresh database.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) conversations_message, analytics_dirtybucket")
        cursor.execute("ANALYZE")
    return bare, real, checked


# Where the CPU of a path went, by kind of process: a word of its command line, or of its parent's (the web
# server's and the workers' children are spawned with a command line of their own).
_CPU_GROUPS = {
    "uvicorn": "web",
    "celery": "workers",
    "postgres": "PostgreSQL",
    "redis": "Redis",
    "webhook_client": "HTTP clients",
}
_TICK = os.sysconf("SC_CLK_TCK")


def _own_roots() -> set[int]:
    """The processes whose descendants are this run's: this one (workers, web server, clients), its
    PostgreSQL server and, under `dev.py bench`, the stack process that started Redis. Other programs on a
    shared machine (another checkout's tests or benchmarks, their own PostgreSQL) are not this run's CPU."""
    roots = {os.getpid()}
    datadir = os.environ.get("CXM_EMBEDDED_PG_DATADIR")
    if datadir:
        with contextlib.suppress(OSError, ValueError, IndexError):
            roots.add(int((Path(datadir) / "postmaster.pid").read_text().split()[0]))
    with contextlib.suppress(OSError, ValueError, IndexError):
        stack = int(Path(f"/proc/{os.getppid()}/stat").read_text().rsplit(")", 1)[1].split()[1])
        if b"cxm.stack" in Path(f"/proc/{stack}/cmdline").read_bytes():
            roots.add(stack)
    return roots


def cpu_snapshot() -> dict[str, float]:
    """CPU seconds used so far by each kind of this run's processes (_own_roots), counting the children
    each has already reaped (PostgreSQL's ended connections, the workers' replaced children), so that a
    difference of two snapshots is the CPU spent in between; "bench" is this process, which runs the
    import."""
    roots = _own_roots()
    processes = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that ended meanwhile
            continue
        ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        processes[int(proc.name)] = (int(fields[1]), cmdline, ticks)

    def own(pid: int) -> bool:
        while pid in processes and pid not in roots:
            pid = processes[pid][0]
        return pid in roots

    totals: dict[str, float] = {}
    for pid, (_, _, ticks) in processes.items():
        if not own(pid):
            continue
        group, ancestor = ("bench" if pid == os.getpid() else None), pid
        while group is None and ancestor in processes and ancestor != os.getpid():
            group = next((g for word, g in _CPU_GROUPS.items() if word in processes[ancestor][1]), None)
            ancestor = processes[ancestor][0]
        if group:
            if group == "bench":
                ticks = sum(os.times()[:2]) * _TICK  # its own CPU, not its children's
            totals[group] = totals.get(group, 0.0) + ticks / _TICK
    return totals


def cpu_spent(before: dict[str, float], after: dict[str, float], messages: int) -> str:
    """The CPU each kind of process spent between two snapshots, in µs a message."""
    spent = {group: seconds - before.get(group, 0.0) for group, seconds in after.items()}
    total = sum(max(s, 0.0) for s in spent.values())
    parts = ", ".join(f"{group} {1e6 * s / messages:,.0f}" for group, s in sorted(spent.items()) if s > 0)
    return f"CPU a message: {1e6 * total / messages:,.0f} µs ({parts})"


def _wait_processed(channel, expected: int, timeout: float = 900) -> float:
    from apps.conversations.models import Message

    deadline = time.monotonic() + timeout
    while True:
        stored = Message.objects.filter(channel=channel).count()
        if stored >= expected:
            return time.perf_counter()
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {stored} of {expected} messages after {timeout} s")
        time.sleep(0.05)


def _fixtures():
    from apps.accounts.services import brand_create, organization_create
    from apps.connectors.kinds import ChannelKind
    from apps.connectors.models import Channel

    organization = organization_create(name=f"Bench {uuid.uuid4().hex[:6]}")
    brand = brand_create(organization=organization, name="Bench Brand")
    webhook = Channel.objects.create(
        organization=organization,
        brand=brand,
        kind=ChannelKind.WEBHOOK,
        name="bench webhook",
        credentials={"signing_secret": "bench-secret"},
    )
    imports = Channel.objects.create(
        organization=organization, brand=brand, kind=ChannelKind.IMPORT, name="bench import"
    )
    return webhook, imports


def webhook_rate(channel, messages: int, clients: int, web_workers: int = 1) -> tuple[float, float]:
    import httpx

    port = _free_port()
    server = subprocess.Popen(
        f"{sys.executable} -m uvicorn cxm.asgi:application --port {port} --workers {web_workers} "
        "--no-access-log --lifespan off --log-level warning".split(),
        cwd=ROOT,
        env=dict(os.environ),
    )
    url = f"http://127.0.0.1:{port}/hooks/{channel.webhook_token}/"
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/health/?live=1", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        run = uuid.uuid4().hex[:8]
        bodies = [json.dumps(_message(run, n)).encode() for n in range(messages)]
        # Client processes, not threads: a client in the benchmark's own interpreter would measure itself.
        files = []
        for i in range(clients):
            path = Path(tempfile.mkstemp(prefix="cxm-bench-", suffix=".jsonl")[1])
            path.write_bytes(b"".join(body + b"\n" for body in bodies[i::clients]))
            files.append(path)
        cpu_before = cpu_snapshot()
        started = time.perf_counter()
        senders = [
            subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "webhook_client.py"), url, "bench-secret", str(f)]
            )
            for f in files
        ]
        if any(sender.wait() for sender in senders):
            raise RuntimeError("a webhook sender failed")
        for path in files:
            path.unlink()
        accepted = time.perf_counter()
        finished = _wait_processed(channel, messages)
        cpu = cpu_spent(cpu_before, cpu_snapshot(), messages)
    finally:
        server.terminate()
        server.wait()
    return messages / (finished - started), messages / (accepted - started), cpu


def _wait_settled(pid: int, timeout: float = 120) -> None:
    """Wait until the worker's pool processes stop using CPU (starting them is no part of ingesting)."""

    def children_cpu() -> tuple[int, int]:
        count = ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # a process that ended meanwhile
                continue
            if int(fields[1]) == pid:
                count, ticks = count + 1, ticks + int(fields[11]) + int(fields[12])
        return count, ticks

    deadline = time.monotonic() + timeout
    before = children_cpu()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = children_cpu()
        if now[0] and now[0] == before[0] and now[1] - before[1] <= 5:  # under 0.05 s of CPU in 0.5 s
            return
        before = now


def _wait_idle(app, timeout: float = 900, countdowns: bool = True) -> float:
    """Wait until the workers have no task queued, running or waiting for its time (a countdown), so that
    the next path is timed on idle workers rather than beside the classification of the previous path's
    messages or its dashboards' refresh (debounced by ROLLUP_REFRESH_DELAY_SECONDS, 30 s: it recomputes
    the (brand, day) buckets the path wrote, a cost of its own that would otherwise land, or not, inside
    the next path's window); the seconds waited. With countdowns=False, tasks waiting for their time are
    not waited for: the moment the work a path set off is done (bench/automation.py's "rules applied")."""
    import redis
    from django.conf import settings

    global _workers
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    if _workers is None:  # counted once, outside any timed window: a ping waits its whole timeout
        _workers = len(app.control.ping(timeout=2))
    started = time.perf_counter()

    def busy() -> bool:
        queued = sum(broker.llen(queue.name) for queue in app.conf.task_queues)
        if queued:
            return True
        # With the number of workers known, a broadcast returns as soon as each has answered (milliseconds)
        # instead of waiting out its timeout: the moment of idleness is then read to a tenth of a second,
        # not to ~3.5 s (three inspections of 1 s each and a sleep), which made short runs' "to idle" rates
        # jump by a quarter from one run to the next.
        inspect = app.control.inspect(timeout=1, limit=_workers or None)
        answers = (inspect.active(), inspect.reserved(), inspect.scheduled() if countdowns else None)
        return any(any((answer or {}).values()) for answer in answers)

    while busy():
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"the workers were still busy after {timeout} s")
        time.sleep(0.05)
    return time.perf_counter() - started


_workers: int | None = None  # the benchmark's workers, counted by the first _wait_idle


def import_rate(channel, messages: int, **extra) -> float:
    from apps.conversations.models import Message
    from apps.ingestion.bulk_import import import_file

    run = uuid.uuid4().hex[:8]
    lines = "".join(json.dumps(_message(run, n, **extra)) + "\n" for n in range(messages))
    there = Message.objects.filter(channel=channel).count()
    cpu_before = cpu_snapshot()
    started = time.perf_counter()
    report = import_file(channel=channel, stream=io.StringIO(lines), fmt="jsonl")
    assert not report.errors, report.errors[:3]
    stored = time.perf_counter()
    finished = _wait_processed(channel, there + messages)
    cpu = cpu_spent(cpu_before, cpu_snapshot(), messages)
    return messages / (finished - started), messages / (stored - started), cpu


def _import_beside_copy(channel, messages: int, **extra) -> tuple[float, float, str, float, float]:
    """import_rate, with the mean rate of COPY into conversations_message just before and just after,
    without and with its foreign keys checked."""
    _, before, checked_before = copy_rates(channel, AROUND_ROWS)
    end_to_end, stored, cpu = import_rate(channel, messages, **extra)
    _, after, checked_after = copy_rates(channel, AROUND_ROWS)
    return end_to_end, stored, cpu, (before + after) / 2, (checked_before + checked_after) / 2


# Rows of the COPYs measured around each import.
AROUND_ROWS = 20_000


def main(webhook_messages: int = 10000, import_messages: int = 10000) -> None:
    _setup_django()
    from cxm.celery import app

    workers = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cxm",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--hostname",
            "bench@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=dict(os.environ),
    )
    try:
        while not app.control.ping(timeout=0.5):
            time.sleep(0.2)
        _wait_settled(workers.pid)
        webhook, imports = _fixtures()
        bare, real, checked = copy_rates(imports, 50_000)
        print(
            f"PostgreSQL COPY into a bare message-shaped table (no index, trigger): {bare:9,.0f} rows/s\n"
            f"PostgreSQL COPY into conversations_message (its indexes, triggers): {real:9,.0f} rows/s "
            "(the ceiling for storing messages)\n"
            f"  the same with its foreign keys checked, as a committed COPY is: {checked:9,.0f} rows/s",
            flush=True,
        )
        end_to_end, accepted, cpu = webhook_rate(webhook, webhook_messages, clients=4)
        print(
            f"webhook path, end to end:   {end_to_end:8,.0f} msgs/s   (aim ≥ 1,000; HTTP accept alone "
            f"{accepted:,.0f} req/s through the webhook intake)\n  {cpu}",
            flush=True,
        )
        waited = _wait_idle(app)
        print(f"(waited {waited:.0f} s for the workers to finish the webhook path's tasks)", flush=True)
        # On a shared machine the load changes within minutes: each import is set against COPY measured
        # right before and right after it (their mean), not only against the first COPY above.
        end_to_end, stored, import_cpu, around, checked = _import_beside_copy(imports, import_messages)
        print(
            f"bulk import path, end to end: {end_to_end:6,.0f} msgs/s = {end_to_end / around:.1%} of COPY "
            f"into conversations_message measured around it ({around:,.0f} rows/s; aim ≥ 25 %), "
            f"{end_to_end / checked:.1%} of that COPY with its foreign keys checked ({checked:,.0f} rows/s), "
            f"{end_to_end / real:.1%} of the first COPY, {end_to_end / bare:.1%} of COPY into the bare "
            f"table; storing raw rows alone {stored:,.0f} rows/s\n  {import_cpu}",
            flush=True,
        )
        _wait_idle(app)
        # Exports that carry each row's language (review sites, platform archives) skip its detection.
        end_to_end, _, import_cpu, around, checked = _import_beside_copy(
            imports, import_messages, language="en"
        )
        print(
            f"bulk import, rows with a language: {end_to_end:6,.0f} msgs/s = {end_to_end / around:.1%} of "
            f"COPY into conversations_message measured around it ({around:,.0f} rows/s), "
            f"{end_to_end / checked:.1%} of it with its foreign keys checked ({checked:,.0f} rows/s)\n"
            f"  {import_cpu}",
            flush=True,
        )
    finally:
        workers.terminate()
        workers.wait()


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
