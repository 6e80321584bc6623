"""Outbound webhooks: the organisation's endpoints, the events published to them, and their delivery —
signed (signing.py), retried with back-off, each attempt's outcome kept in the delivery log.

`event_publish()` is the one entry point for the rest of CXM: it records a delivery for each active endpoint
subscribed to the event, in the caller's transaction, and hands them to workers once that commits.
"""

from __future__ import annotations

import email.utils
import json
import logging
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.outbound import DestinationRefused, guarded_http_client, resolve_public
from apps.core.parsing import ascii_int

from .models import Event, WebhookDelivery, WebhookEndpoint
from .signing import EVENT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_header

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RESPONSE_EXCERPT_CHARS = 2000
# Retries wait base × 2^(attempt − 1) seconds, capped (the cap stays under the broker's visibility timeout,
# which would otherwise deliver a waiting task twice), or what the endpoint's Retry-After asks.
RETRY_CAP_SECONDS = 1800
# The beat's sweep leaves a due delivery this long to its own scheduled task before sending it itself.
SWEEP_GRACE = timedelta(seconds=60)
# Which endpoints want which event, per organisation: read on every ingested batch, so cached; any change
# of an endpoint clears it (apps.py connects the model's signals), and it expires anyway.
SUBSCRIPTIONS_CACHE_SECONDS = 300


class EndpointRefused(ValueError):
    """An endpoint's settings that cannot be accepted; the message says why, for the admin page."""


def max_attempts() -> int:
    return settings.WEBHOOKS_MAX_ATTEMPTS


def _subscriptions_key(organization_id: int) -> str:
    return f"webhooks:subscriptions:{organization_id}"


def subscriptions_forget(organization_id: int) -> None:
    cache.delete(_subscriptions_key(organization_id))


def subscriptions(organization_id: int) -> dict[str, list[int]]:
    """{event: [endpoint ids]} of the organisation's active endpoints (cached)."""
    key = _subscriptions_key(organization_id)
    found = cache.get(key)
    if found is None:
        found = {}
        for endpoint_id, events in WebhookEndpoint.objects.filter(
            organization_id=organization_id, active=True
        ).values_list("id", "events"):
            for event in events:
                found.setdefault(event, []).append(endpoint_id)
        cache.set(key, found, SUBSCRIPTIONS_CACHE_SECONDS)
    return found


def is_subscribed(*, organization_id: int, event: str) -> bool:
    """Whether any active endpoint of the organisation wants the event: callers on hot paths ask first, and
    build no payload when nobody listens."""
    return bool(subscriptions(organization_id).get(event))


# --- endpoints -------------------------------------------------------------------------------------------


def endpoint_url_check(url: str) -> str:
    """The URL, if it may receive webhooks: http(s), and a host whose every address is public (unless
    CXM_ALLOW_PRIVATE_DESTINATIONS), so that an endpoint cannot make CXM's workers call into its own network.
    An early check with a clear reason; the delivery's connection is checked again (apps.core.outbound)."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as error:
        raise EndpointRefused("the URL must be a full http:// or https:// address") from error
    parts = urlsplit(url)
    try:
        resolve_public(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    except DestinationRefused as error:
        raise EndpointRefused(str(error)) from None
    return url


def _events_check(events) -> list[str]:
    chosen = sorted({str(event) for event in events})
    unknown = [event for event in chosen if event not in Event.values or event == Event.PING]
    if unknown:
        raise EndpointRefused(f"unknown event: {', '.join(unknown)}")
    if not chosen:
        raise EndpointRefused("choose at least one event")
    return chosen


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


@transaction.atomic
def endpoint_create(
    *, organization, url: str, events, actor, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, which the caller shows once: only its end is shown again."""
    secret = _new_secret()
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=endpoint_url_check(url),
        events=_events_check(events),
        description=description.strip()[:200],
        credentials={"secret": secret},
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(organization=organization, actor=actor, action="webhook.created", target=endpoint)
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, events, description: str, active: bool, actor
) -> WebhookEndpoint:
    endpoint.url = endpoint_url_check(url)
    endpoint.events = _events_check(events)
    endpoint.description = description.strip()[:200]
    endpoint.active = active
    endpoint.save()
    audit_record(
        organization=endpoint.organization,
        actor=actor,
        action="webhook.updated",
        target=endpoint,
        data={"url": endpoint.url, "events": endpoint.events, "active": active},
    )
    return endpoint


@transaction.atomic
def endpoint_set_active(*, endpoint: WebhookEndpoint, active: bool, actor) -> WebhookEndpoint:
    endpoint.active = active
    endpoint.save(update_fields=["active", "updated_at"])
    audit_record(
        organization=endpoint.organization,
        actor=actor,
        action="webhook.resumed" if active else "webhook.paused",
        target=endpoint,
    )
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor) -> str:
    """A new signing secret, effective at once; the old one stops working."""
    secret = _new_secret()
    endpoint.credentials = {"secret": secret}
    endpoint.save(update_fields=["credentials", "updated_at"])
    audit_record(
        organization=endpoint.organization, actor=actor, action="webhook.secret_rotated", target=endpoint
    )
    return secret


# --- publishing ------------------------------------------------------------------------------------------


def _enqueue(deliveries: list[WebhookDelivery]) -> None:
    from .tasks import webhook_deliver_task

    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: [webhook_deliver_task.delay(pk) for pk in ids])


def event_publish(*, organization_id: int, event: str, payload: dict) -> None:
    """Send `event` with `payload` (JSON-serialisable) to each active endpoint of the organisation subscribed
    to it. Deliveries are written in the caller's transaction and sent by workers after it commits."""
    endpoint_ids = subscriptions(organization_id).get(event)
    if not endpoint_ids:
        return
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                organization_id=organization_id,
                endpoint_id=endpoint_id,
                event=event,
                payload=payload,
                next_attempt_at=now,
            )
            for endpoint_id in endpoint_ids
        ]
    )
    _enqueue(deliveries)


@transaction.atomic
def test_event_send(*, endpoint: WebhookEndpoint, actor) -> WebhookDelivery:
    """A "ping" event to this one endpoint, whatever it subscribed to (its admin's "Send a test event")."""
    delivery = WebhookDelivery.objects.create(
        organization_id=endpoint.organization_id,
        endpoint=endpoint,
        event=Event.PING,
        payload={"message": "A test event from CXM.", "endpoint": endpoint.pk},
        next_attempt_at=timezone.now(),
    )
    _enqueue([delivery])
    return delivery


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send a logged delivery's event again, as a new delivery with a new event id (the original keeps its
    outcome in the log)."""
    again = WebhookDelivery.objects.create(
        organization_id=delivery.organization_id,
        endpoint_id=delivery.endpoint_id,
        event=delivery.event,
        payload=delivery.payload,
        redelivery_of=delivery,
        next_attempt_at=timezone.now(),
    )
    audit_record(
        organization=delivery.endpoint.organization,
        actor=actor,
        action="webhook.redelivered",
        target=delivery,
        data={"redelivery": again.pk},
    )
    _enqueue([again])
    return again


# --- delivery --------------------------------------------------------------------------------------------


def request_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body a delivery sends: the same bytes on every attempt (they are what is signed)."""
    envelope = {
        "id": str(delivery.uuid),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "organization": delivery.organization_id,
        "data": delivery.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True, default=str).encode()


def _retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date (RFC 9110 §10.2.3)."""
    value = (value or "").strip()
    if not value:
        return None
    if (seconds := ascii_int(value)) is not None:
        return float(seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _backoff_seconds(attempts: int) -> float:
    return min(RETRY_CAP_SECONDS, settings.WEBHOOKS_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> float | None:
    """Make one attempt at a pending delivery that is due; returns in how many seconds to try again, or None
    when the delivery is settled (succeeded, failed for good) or not this caller's to send (not due, or
    being sent by another worker right now)."""
    # The row stays locked while the request is made (10 s at most): a second worker given the same delivery
    # (the beat's sweep, a redelivered task) skips it instead of sending it twice.
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        now = now or timezone.now()
        if delivery is None or (delivery.next_attempt_at and delivery.next_attempt_at > now):
            return None
        endpoint = delivery.endpoint
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_status, delivery.response_body, delivery.error = None, "", ""
        retry_in = _send(delivery, endpoint, now)
        if retry_in is not None and delivery.attempts >= max_attempts():
            delivery.error = f"gave up after {delivery.attempts} attempts: {delivery.error}"[:2000]
            retry_in = None
            delivery.status = WebhookDelivery.Status.FAILED
        elif retry_in is None and delivery.status == WebhookDelivery.Status.PENDING:
            delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = now + timedelta(seconds=retry_in) if retry_in is not None else None
        delivery.save()
    log = logger.info if delivery.status != WebhookDelivery.Status.FAILED else logger.warning
    log(
        "webhook delivery %s to endpoint %s: %s (attempt %s, HTTP %s)",
        delivery.pk,
        endpoint.pk,
        delivery.status,
        delivery.attempts,
        delivery.response_status,
    )
    return retry_in


def _send(delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime) -> float | None:
    """POST the delivery; records the outcome on it. Returns the retry delay when the failure is worth a
    retry (network error, 5xx, 429), None otherwise (success sets status; any other outcome is final)."""
    if not endpoint.active:
        delivery.error = "the endpoint is paused"
        return None
    body = request_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CXM-Webhooks/1",
        EVENT_HEADER: delivery.event,
        EVENT_ID_HEADER: str(delivery.uuid),
        TIMESTAMP_HEADER: str(int(now.timestamp())),
        SIGNATURE_HEADER: signature_header(endpoint.secret, body, int(now.timestamp())),
    }
    try:
        # Checked again at send time: the host's DNS may point elsewhere since the endpoint was saved.
        url = endpoint_url_check(endpoint.url)
        with guarded_http_client(timeout=REQUEST_TIMEOUT, follow_redirects=False) as http:
            response = http.post(url, content=body, headers=headers)
    except (EndpointRefused, DestinationRefused) as error:
        delivery.error = f"refused: {error}"
        return None
    except httpx.HTTPError as error:
        delivery.error = f"{type(error).__name__}: {error}"[:2000] or type(error).__name__
        return _backoff_seconds(delivery.attempts)
    delivery.response_status = response.status_code
    delivery.response_body = response.text[:RESPONSE_EXCERPT_CHARS]
    if 200 <= response.status_code < 300:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        return None
    delivery.error = f"HTTP {response.status_code}"
    if response.status_code == 429 or response.status_code >= 500:
        asked = _retry_after_seconds(response.headers.get("Retry-After"), now)
        return min(RETRY_CAP_SECONDS, asked) if asked is not None else _backoff_seconds(delivery.attempts)
    # Redirects and other 4xx: the endpoint refuses this request as it is; sending it again changes nothing.
    return None


def deliveries_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Pending deliveries whose attempt is overdue (their task was lost): the beat sends them again."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now - SWEEP_GRACE
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
