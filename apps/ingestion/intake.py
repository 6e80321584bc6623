"""The webhook intake: signed POSTs to /hooks/<token>/ answered in front of Django, on the event loop.

Through Django a webhook costs about 4.5 ms of server CPU (eleven middlewares, a hop to a thread, a
transaction, a Celery publish per request), which held intake near 100 requests/s on two cores. The intake
answers the request that makes up the traffic, a POST on a known channel whose signature verifies, for
about 0.8 ms: the channel from a short-lived cache, one INSERT on an async connection, and the processing
tasks published in batches by a thread of its own (`TaskBatcher`).

Every other request goes to Django's view with the body read so far replayed, so that its answer and the
rows it stores are the view's own: GET handshakes, other methods, unknown tokens, paused channels, bodies
over the limit, refused signatures, redeliveries, hosts not allowed, errors. The cache cannot let through
what Django would refuse: the INSERT stores the payload only if the channel row still has the token, kind
and credentials the signature was checked with and is not paused (`payload_receive_verified`); when it
has changed, the request goes to Django, which reads the channel afresh.

Connectors' `verify_webhook` and `payload_external_id` run on the event loop here: they must stay free
of I/O, as they are today (an HMAC, a JSON field).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
from asgiref.sync import sync_to_async
from csp.utils import build_policy
from django.conf import settings
from django.core.handlers.asgi import get_script_prefix
from django.db import InterfaceError, OperationalError, connection, connections
from django.db.models import TextField
from django.db.models.functions import Cast
from django.http.request import split_domain_port, validate_host
from django.urls import Resolver404, resolve, reverse
from django.urls import get_script_prefix as url_script_prefix
from django.utils.http import parse_header_parameters

from apps.connectors.base import Connector
from apps.connectors.models import Channel
from apps.connectors.registry import connector_for
from apps.core.logging import request_id_var

from . import services, views
from .models import RawPayload

logger = logging.getLogger(__name__)
# The same access log line as apps.core.middleware.RequestIdMiddleware writes for Django's requests.
request_logger = logging.getLogger("cxm.request")

# How long a channel read is used. A stale one costs a detour through Django, never a wrong answer.
CHANNEL_TTL_SECONDS = 5.0
CHANNEL_CACHE_SIZE = 10_000
# A payload that arrives alone has its task published at once; when they come faster, one publish per
# window (or per ENQUEUE_BATCH ids) carries all the ids stored meanwhile. A Celery publish costs about as
# much CPU as the rest of the request, and workers spend ~13 ms of CPU on a payload processed alone but
# ~0.6 ms each in a set of 50 (measured on 2 cores). Processing starts this much later at most.
ENQUEUE_WINDOW_SECONDS = 0.2
# Connections of the intake's own pool (per process): each is held for one INSERT only.
DB_POOL_MAX_SIZE = 4
# While PostgreSQL is unreachable, a webhook is answered 503 with Retry-After (platforms deliver it again)
# within this long, instead of waiting on Django's pool; after a failure, requests are answered so at once
# for DATABASE_RECHECK_SECONDS, then the next ones try the database again.
DATABASE_TIMEOUT_SECONDS = 0.5
DATABASE_RECHECK_SECONDS = 1.0
RETRY_AFTER_SECONDS = 5
# Django's middleware answers by the request's user agent or forwarded host when these are set; the intake
# then leaves every request to Django rather than copy that logic. (The scheme it handles: a plain-HTTP
# request that SECURE_SSL_REDIRECT would redirect goes to Django; an HTTPS one gets Django's HSTS header.)
SETTINGS_LEFT_TO_DJANGO = (
    "USE_X_FORWARDED_HOST",
    "DISALLOWED_USER_AGENTS",
)


def is_secure(scope, headers: dict[str, str]) -> bool:
    """HttpRequest.is_secure(): the proxy's header when SECURE_PROXY_SSL_HEADER names one, else the scheme."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        name = header.removeprefix("HTTP_").replace("_", "-").lower()
        if name in headers:
            return headers[name].split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "https"


def _hsts_header() -> tuple[bytes, bytes] | None:
    """SecurityMiddleware's Strict-Transport-Security, sent on HTTPS answers."""
    if not settings.SECURE_HSTS_SECONDS:
        return None
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return (b"strict-transport-security", value.encode())


# The database is down or unreachable (psycopg's errors, the pool's timeout, Django's wrapped errors).
DATABASE_ERRORS = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    OperationalError,
    InterfaceError,
    TimeoutError,
)


@dataclass(frozen=True, slots=True)
class KnownChannel:
    channel: Channel
    connector: Connector
    # The credentials column as stored (encrypted): the INSERT checks that the row still has it.
    stored_credentials: str
    read_at: float


def _read_channel(token: str) -> KnownChannel | None:
    try:
        channel = Channel.objects.annotate(stored_credentials=Cast("credentials", TextField())).get(
            webhook_token=token
        )
    except Channel.DoesNotExist:
        return None
    finally:
        # Back to the pool: no request cycle closes the connections of this thread.
        connection.close()
    return KnownChannel(channel, connector_for(channel.kind), channel.stored_credentials, time.monotonic())


def request_headers(scope) -> dict[str, str]:
    """The headers as Django's ASGIRequest reads them: names with "_" dropped (against spoofing through the
    "-"/"_" ambiguity), a repeated header's values joined with commas."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin1").lower()
        if "_" in name:
            continue
        value = raw_value.decode("latin1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


async def read_body(receive, limit: int) -> tuple[bytes, bool] | None:
    """The body up to just over `limit` bytes and whether more follows; None when the client went away."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = message.get("more_body", False)
        if not more or size > limit:
            return b"".join(chunks), more


def replaying(body: bytes, more: bool, receive):
    """A `receive` that gives the body already read, then reads on from the client."""
    replayed = False

    async def replay():
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": more}

    return replay


def _security_headers() -> list[tuple[bytes, bytes]]:
    """What SecurityMiddleware, XFrameOptionsMiddleware and django-csp's CSPMiddleware add to every answer
    (with the settings that make them depend on the request left to Django, see SETTINGS_LEFT_TO_DJANGO)."""
    headers = []
    if "django.middleware.security.SecurityMiddleware" in settings.MIDDLEWARE:
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            headers.append((b"x-content-type-options", b"nosniff"))
        if policy := settings.SECURE_REFERRER_POLICY:
            values = policy.split(",") if isinstance(policy, str) else policy
            headers.append((b"referrer-policy", ",".join(v.strip() for v in values).encode()))
        if opener_policy := settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
            headers.append((b"cross-origin-opener-policy", opener_policy.encode()))
    if "django.middleware.clickjacking.XFrameOptionsMiddleware" in settings.MIDDLEWARE:
        headers.append((b"x-frame-options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper().encode()))
    if "csp.middleware.CSPMiddleware" in settings.MIDDLEWARE:
        headers.append((b"content-security-policy", build_policy().encode()))
    return headers


class TaskBatcher:
    """Publishes the processing tasks of stored payloads (`services.payloads_enqueue`) on a thread of its
    own, so that a slow or absent broker never stalls the event loop: a payload alone at once, and at most
    one publish per window otherwise, carrying every id stored since the last one.

    Ids still waiting when the process stops are published by `close()`, at lifespan shutdown or at exit;
    should the process die first, the payloads are stored and `requeue_stuck_payloads_task` sends them.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, window: float | None = None):
        self.loop = loop
        self.window = ENQUEUE_WINDOW_SECONDS if window is None else window
        self.pending: list[int] = []
        self.flush_handle: asyncio.Handle | None = None
        self.last_flush = float("-inf")
        self.thread: ThreadPoolExecutor | None = ThreadPoolExecutor(1, thread_name_prefix="webhook-enqueue")
        atexit.register(self.close)

    @staticmethod
    def publish(payload_ids: list[int]) -> None:
        services.payloads_enqueue(payload_ids)

    def add(self, payload_id: int) -> None:
        self.pending.append(payload_id)
        if len(self.pending) >= services.ENQUEUE_BATCH:
            # A full task's worth: waiting longer would only delay it.
            if self.flush_handle is not None:
                self.flush_handle.cancel()
            self.flush()
        elif self.flush_handle is None:
            delay = self.last_flush + self.window - self.loop.time()
            # call_soon still lets the requests already read in this turn of the loop join the publish.
            self.flush_handle = (
                self.loop.call_later(delay, self.flush) if delay > 0 else self.loop.call_soon(self.flush)
            )

    def flush(self) -> None:
        self.flush_handle = None
        payload_ids, self.pending = self.pending, []
        if not payload_ids:
            return
        self.last_flush = self.loop.time()
        if self.thread is None:
            self.publish(payload_ids)
        else:
            self.thread.submit(self.publish, payload_ids)

    def close(self) -> None:
        """Publish what waits and the publishes under way, then stop the thread."""
        atexit.unregister(self.close)
        if self.flush_handle is not None:
            self.flush_handle.cancel()
            self.flush_handle = None
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.shutdown(wait=True)
        payload_ids, self.pending = self.pending, []
        if payload_ids:
            self.publish(payload_ids)


class WebhookIntake:
    """ASGI app in front of Django (`cxm.asgi`): takes the verified webhook POSTs, passes the rest on."""

    def __init__(self, django_app: Callable):
        self.django = django_app
        self.channels: dict[str, KnownChannel] = {}
        self.pool = None
        self.batcher: TaskBatcher | None = None
        self.configured = False
        self.enabled = True
        self.url_prefix = ""
        self.answer_headers: list[tuple[bytes, bytes]] = []
        self.hsts_header: tuple[bytes, bytes] | None = None
        self.allowed_hosts: list[str] = []
        self.database_down_until = 0.0

    async def __call__(self, scope, receive, send):
        token = self._token(scope) if scope["type"] == "http" and scope["method"] == "POST" else None
        if token is None:
            return await self.django(scope, receive, send)
        return await self._post(scope, receive, send, token)

    def _configure(self) -> None:
        """Read once, at the first request (the URLconf is loaded by then)."""
        self.configured = True
        self.enabled = not any(getattr(settings, name) for name in SETTINGS_LEFT_TO_DJANGO)
        # Compared with the path without the script prefix, as Django resolves it.
        url = reverse("ingestion:webhook", kwargs={"token": "-"}).removeprefix(url_script_prefix())
        self.url_prefix = "/" + url.removesuffix("-/")
        self.answer_headers = _security_headers()
        self.hsts_header = _hsts_header()
        # As HttpRequest.get_host() allows them.
        self.allowed_hosts = settings.ALLOWED_HOSTS or (
            [".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else []
        )

    def _token(self, scope) -> str | None:
        """The token of a request for views.webhook, as Django's URLconf routes it; None for any other."""
        if not self.configured:
            self._configure()
        path_info = scope["path"].removeprefix(get_script_prefix(scope))
        if not self.enabled or not path_info.startswith(self.url_prefix):
            return None
        try:
            match = resolve(path_info)
        except Resolver404:
            return None
        return match.kwargs["token"] if match.func is views.webhook else None

    async def _post(self, scope, receive, send, token: str):
        started = time.perf_counter()
        if time.monotonic() < self.database_down_until:
            return await self._unavailable(send)
        try:
            known = await self._channel(token)
        except DATABASE_ERRORS:
            logger.warning("webhook intake could not read the channel", exc_info=True)
            self.database_down_until = time.monotonic() + DATABASE_RECHECK_SECONDS
            return await self._unavailable(send)
        except Exception:  # anything else, Django meets too and answers with its own error
            logger.warning("webhook intake could not read the channel", exc_info=True)
            known = None
        if known is None or known.channel.status == Channel.Status.PAUSED:
            return await self.django(scope, receive, send)
        headers = request_headers(scope)
        domain = split_domain_port(headers.get("host", ""))[0]
        secure = is_secure(scope, headers)
        if settings.SECURE_SSL_REDIRECT and not secure:
            return await self.django(scope, receive, send)  # Django redirects it to HTTPS
        if not domain or not validate_host(domain, self.allowed_hosts) or "cookie" in headers:
            # Django answers 400 to a host not allowed (and rebuilds a missing one); a cookie, which
            # platforms never send, can make its session middleware expire it in the answer.
            return await self.django(scope, receive, send)
        read = await read_body(receive, views.MAX_WEBHOOK_BYTES)
        if read is None:
            return None  # the client went away before the end of its body: no answer, as in Django
        body, more = read
        replay = replaying(body, more, receive)
        if len(body) > views.MAX_WEBHOOK_BYTES:
            return await self.django(scope, replay, send)
        kept = views.kept_headers(headers.items())
        try:
            known.connector.verify_webhook(known.channel, kept, body)
            external_id = known.connector.payload_external_id(known.channel, body, kept)
        except Exception:
            # Refused (WebhookForbidden): Django keeps the payload with the reason and answers. Anything
            # else, Django meets too and answers with its own error.
            return await self.django(scope, replay, send)
        try:
            async with (await self._pool()).connection(timeout=DATABASE_TIMEOUT_SECONDS) as database:
                payload_id = await services.payload_receive_verified(
                    database,
                    channel=known.channel,
                    stored_credentials=known.stored_credentials,
                    source=RawPayload.Source.WEBHOOK,
                    body=body,
                    headers=kept,
                    content_type=parse_header_parameters(headers.get("content-type", ""))[0],
                    external_id=external_id,
                )
        except DATABASE_ERRORS:
            # Not stored: the platform delivers it again. Had the INSERT committed and only its answer been
            # lost, the payload is stored twice and its messages still once.
            logger.warning("webhook intake could not store the payload", exc_info=True)
            self.database_down_until = time.monotonic() + DATABASE_RECHECK_SECONDS
            return await self._unavailable(send)
        except Exception:
            # Django answers as it would have. Had the INSERT committed and
            # only its answer been lost, the payload is stored twice and its messages still once, as when
            # a platform retries after a timeout.
            logger.warning("webhook intake failed to store; the request goes to Django", exc_info=True)
            payload_id = None
        if payload_id is None:
            # The channel changed since it was read, or this is a redelivery: Django reads both afresh.
            self.channels.pop(token, None)
            return await self.django(scope, replay, send)
        self._batcher().add(payload_id)
        await self._accepted(
            scope, send, headers, payload_id, started, secure=secure, answer=known.connector.webhook_answer()
        )
        return None

    async def _channel(self, token: str) -> KnownChannel | None:
        known = self.channels.get(token)
        if known is None or time.monotonic() - known.read_at > CHANNEL_TTL_SECONDS:
            # Django's pool waits up to its timeout for a database that is down: the intake's own pool
            # tells within a second, before a thread is given to the read.
            async with (await self._pool()).connection(timeout=DATABASE_TIMEOUT_SECONDS) as database:
                await asyncio.wait_for(database.execute("SELECT 1"), DATABASE_TIMEOUT_SECONDS)
            known = await sync_to_async(_read_channel, thread_sensitive=False)(token)
            if known is not None:
                if len(self.channels) >= CHANNEL_CACHE_SIZE:
                    self.channels.clear()
                self.channels[token] = known
        return known

    async def _pool(self):
        """The intake's connection pool, opened with Django's settings for the default database."""
        if self.pool is None:
            from psycopg_pool import AsyncConnectionPool

            database = connections["default"]
            params = database.get_connection_params()
            # Django's cursor class and adapters are made for its synchronous connections.
            params.pop("cursor_factory", None)
            params.pop("context", None)
            options = database.settings_dict["OPTIONS"].get("pool") or {}
            self.pool = AsyncConnectionPool(
                kwargs={**params, "autocommit": True},
                min_size=1,
                max_size=min(options.get("max_size", DB_POOL_MAX_SIZE), DB_POOL_MAX_SIZE),
                timeout=options.get("timeout", 30),
                check=AsyncConnectionPool.check_connection
                if database.settings_dict["CONN_HEALTH_CHECKS"]
                else None,
                open=False,
            )
        await self.pool.open()
        return self.pool

    def _batcher(self) -> TaskBatcher:
        if self.batcher is None:
            self.batcher = TaskBatcher(asyncio.get_running_loop())
        return self.batcher

    async def _unavailable(self, send) -> None:
        content = json.dumps({"error": "temporarily unavailable; deliver again later"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    *self.answer_headers,
                    (b"content-length", str(len(content)).encode()),
                    (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})

    async def _accepted(
        self,
        scope,
        send,
        headers: dict[str, str],
        payload_id: int,
        started: float,
        *,
        secure: bool,
        answer: tuple[str, bytes] | None = None,
    ):
        # The same answer as views.webhook through Django's middleware, X-Request-ID included: the
        # platform's own (Twilio's TwiML) where the connector names one.
        request_id = (headers.get("x-request-id") or uuid.uuid4().hex)[:64]
        content_type, content = answer or (
            "application/json",
            json.dumps({"received": payload_id, "duplicate": False}).encode(),
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", content_type.encode()),
                    *self.answer_headers,
                    *([self.hsts_header] if secure and self.hsts_header else []),
                    (b"content-length", str(len(content)).encode()),
                    (b"x-request-id", request_id.encode("latin1")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})
        token = request_id_var.set(request_id)
        try:
            request_logger.info(
                "request",
                extra={
                    "method": "POST",
                    "path": scope["path"],
                    "status": 200,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
        finally:
            request_id_var.reset(token)

    async def aclose(self) -> None:
        if self.batcher is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.batcher.close)
            self.batcher = None
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    async def lifespan(self, scope, receive, send):
        """ASGI lifespan: at shutdown, publish the tasks still waiting and close the pool."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return
