"""The relay: a stored payload whose processing task was lost is published again within seconds.

A payload is stored (committed) before its task is published, so a task can be lost without the payload
being lost: the publish failed (the broker was down), the broker restarted and lost its queue, the process
that held the task died. Every RELAY_INTERVAL_SECONDS the relay, a thread of beat's process (one beat a
deployment, so one relay), looks for such payloads and publishes their tasks again. Processing is
idempotent (a payload is processed once, under its row lock; messages once per channel + platform id), so
publishing a task twice costs a task that finds nothing to do, never a duplicate.

What it publishes again, without knowing the broker's content:
- after the broker was unreachable or restarted (its run id changed): every payload still received, as
  the tasks queued or published meanwhile may be gone;
- otherwise, payloads received more than LEASE_SECONDS ago that no worker holds (row not locked, task
  not delivered to a worker in the last HELD_SECONDS) and that come before every processing task still
  queued: nobody has their task. And, should the queues be too long to read, payloads waiting more than
  OVERDUE_SECONDS. Each payload is published again with a back-off of its own (doubling up to
  MAX_BACKOFF_SECONDS), so that a payload that keeps failing is not given a new task chain every few
  seconds.

The beat task `requeue_stuck_payloads_task` remains as a last resort for what the relay cannot see (beat
itself stopped for a long time).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from datetime import timedelta

import redis
from django.conf import settings
from django.db import connection

from . import services

logger = logging.getLogger(__name__)

RELAY_INTERVAL_SECONDS = 2.0
LEASE_SECONDS = 10.0
OVERDUE_SECONDS = 300.0
MAX_BACKOFF_SECONDS = 600.0
# kombu's Redis transport keeps the messages delivered and not yet acknowledged aside, with their time.
UNACKED_KEY, UNACKED_INDEX_KEY = "unacked", "unacked_index"
HELD_SECONDS = 30.0
# A queue longer than this is not read (the relay then waits OVERDUE_SECONDS before publishing again).
QUEUE_SCAN = 2000
# Payloads published again in one pass at most (in tasks of services.ENQUEUE_BATCH).
RELAY_LIMIT = 5000
PROCESSING_TASKS = (
    "apps.ingestion.tasks.process_payload_task",
    "apps.ingestion.tasks.process_payload_batch_task",
    "apps.ingestion.tasks.process_import_chunk_task",  # on the bulk queue (cxm/queues.py)
)


def queue_keys() -> list[str]:
    """The Redis keys of the queues the processing tasks go to, with kombu's priority lists beside them."""
    from kombu.transport.redis import Channel

    from cxm.celery import app

    names = set()
    for task in PROCESSING_TASKS:
        queue = app.amqp.router.route({}, task, args=(), kwargs={}).get("queue")
        names.add(getattr(queue, "name", queue) or app.conf.task_default_queue)
    priorities = [step for step in Channel.priority_steps if step]
    return sorted({*names, *(f"{name}{Channel.sep}{step}" for name in names for step in priorities)})


def task_payload_ids(raw: bytes | dict) -> list[int] | None:
    """The payload ids of a queued processing task (kombu's Redis message), None for another task."""
    try:
        message = json.loads(raw) if isinstance(raw, bytes | str) else raw
        if message["headers"].get("task") not in PROCESSING_TASKS:
            return None
        first = json.loads(base64.b64decode(message["body"]))[0][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return first if isinstance(first, list) else [first]


class PayloadRelay:
    def __init__(self, broker_url: str | None = None):
        self.broker = redis.Redis.from_url(
            broker_url or settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1
        )
        self.broker_id: str | None = None
        # Set when the broker could not be reached (or a publish failed): the next pass that reaches it
        # publishes every payload still waiting.
        self.broker_lost = False
        self.queue_keys = queue_keys()
        # payload id → (monotonic time before which it is not published again, back-off)
        self.backoff: dict[int, tuple[float, float]] = {}

    def _queue_head(self) -> float | None:
        """The lowest payload id the queued processing tasks carry: a payload received before it, whose
        task is not held by a worker, has no task. Infinite when the queues hold no processing task; None
        when they are too long to read every few seconds (no telling: only OVERDUE_SECONDS then)."""
        head = float("inf")
        for key in self.queue_keys:
            if self.broker.llen(key) > QUEUE_SCAN:
                return None
            for raw in self.broker.lrange(key, 0, -1):
                head = min(head, *(task_payload_ids(raw) or [head]))
        return head

    def _held(self) -> set[int]:
        """The payloads of tasks a worker took from the queue less than HELD_SECONDS ago and has not
        acknowledged yet (running, or reserved behind the one running): kombu keeps them aside, with the
        time of delivery. A task held longer, whose payloads no worker locks, may belong to a dead worker
        (Redis gives it back only after the visibility timeout, an hour)."""
        tags = self.broker.zrangebyscore(UNACKED_INDEX_KEY, time.time() - HELD_SECONDS, "+inf")
        held: set[int] = set()
        for raw in self.broker.hmget(UNACKED_KEY, tags) if tags else []:
            try:
                ids = task_payload_ids(json.loads(raw)[0]) if raw else None
            except (ValueError, IndexError):
                ids = None
            held.update(ids or [])
        return held

    def tick(self) -> int:
        """One pass; returns how many payloads were published again."""
        try:
            broker_id = self.broker.info("server")["run_id"]
            head = self._queue_head()
            held = self._held()
        except redis.RedisError:
            if not self.broker_lost:
                logger.warning("relay: the broker is unreachable; payloads waiting will be published again")
            self.broker_lost = True
            return 0
        if self.broker_id is not None and broker_id != self.broker_id:
            logger.warning("relay: the broker restarted; payloads waiting are published again")
            self.broker_lost = True
        self.broker_id = broker_id
        if self.broker_lost:
            return self._all_waiting()
        return self._lost_tasks(head, held)

    def _all_waiting(self) -> int:
        """After the broker was lost: every payload still waiting, page after page."""
        total, after, ok = 0, 0, True
        while True:
            published, ok = services.payloads_republish(
                older_than=timedelta(0), limit=RELAY_LIMIT, after_pk=after
            )
            total += len(published)
            if not ok or len(published) < RELAY_LIMIT:
                break
            after = published[-1]
        self.broker_lost = not ok
        self.backoff.clear()
        if total:
            logger.warning("relay: published %d waiting payloads again", total)
        return total

    def _lost_tasks(self, head: float | None, held: set[int]) -> int:
        """Payloads no worker holds, LEASE_SECONDS old, received before any queued task's: nobody
        has their task. And, whatever the queues hold, those waiting OVERDUE_SECONDS."""
        now = time.monotonic()

        def allowed(pk: int) -> bool:
            return pk not in held and self.backoff.get(pk, (0.0, 0.0))[0] <= now

        published, ok = [], True
        if head is not None:
            published, ok = services.payloads_republish(
                older_than=timedelta(seconds=LEASE_SECONDS),
                limit=RELAY_LIMIT,
                before_pk=None if head == float("inf") else int(head),
                allowed=allowed,
            )
        if not published and ok:
            published, ok = services.payloads_republish(
                older_than=timedelta(seconds=OVERDUE_SECONDS),
                limit=RELAY_LIMIT,
                allowed=allowed,
            )
        if not ok:
            self.broker_lost = True
        if len(self.backoff) > 10 * RELAY_LIMIT:
            self.backoff.clear()
        for pk in published:
            gap = min(max(self.backoff.get(pk, (0.0, 0.0))[1] * 2, LEASE_SECONDS), MAX_BACKOFF_SECONDS)
            self.backoff[pk] = (now + gap, gap)
        if published:
            logger.warning(
                "relay: published again %d payloads whose task was lost",
                len(published),
                extra={"payloads": published[:20]},
            )
        return len(published)


def run_relay(stop: threading.Event, interval: float = RELAY_INTERVAL_SECONDS) -> None:
    relay = PayloadRelay()
    while not stop.wait(interval):
        try:
            relay.tick()
        except Exception:  # the database down, say: the next pass tries again
            logger.warning("relay pass failed", exc_info=True)
        finally:
            connection.close()  # back to the pool: no request cycle closes this thread's connection


def start_relay_thread() -> threading.Event:
    """Start the relay on a daemon thread of this process (beat's); set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=run_relay, args=(stop,), name="payload-relay", daemon=True).start()
    return stop
