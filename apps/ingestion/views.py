"""Webhook endpoints: verify, store the raw payload, answer fast. Processing happens in the workers.

Under ASGI (cxm.asgi) the intake in front of Django (intake.py) answers the signed POSTs it can verify and
store itself, and hands this view every other request: this view defines what the intake must copy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.connectors.base import WebhookForbidden
from apps.connectors.models import Channel
from apps.connectors.registry import connector_for

from .models import RawPayload
from .services import payload_receive, payload_refuse

logger = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 5 * 1024 * 1024
# Headers worth keeping with a payload: the platform's own and the content type, never cookies or auth.
KEPT_HEADER_PREFIXES = ("x-", "content-type", "user-agent")


def kept_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The headers stored with a payload, from (name, value) pairs as Django reads them."""
    return {
        name.lower(): value[:1000]
        for name, value in headers
        if name.lower().startswith(KEPT_HEADER_PREFIXES) and name.lower() != "x-csrftoken"
    }


def _headers(request) -> dict[str, str]:
    return kept_headers(request.headers.items())


def _read_body(request) -> tuple[bytes, bool]:
    """The body, at most MAX_WEBHOOK_BYTES (+1 to detect an oversized one) without trusting Content-Length."""
    body = request.read(MAX_WEBHOOK_BYTES + 1)
    return body[:MAX_WEBHOOK_BYTES], len(body) > MAX_WEBHOOK_BYTES


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request, token: str):
    try:
        channel = Channel.objects.get(webhook_token=token)
    except Channel.DoesNotExist:
        return JsonResponse({"error": "unknown webhook"}, status=404)
    connector = connector_for(channel.kind)
    # A platform that delivers by GET (Vonage's default) sends its parameters as the query string, which
    # is then stored and processed as a form body; any other GET is a verification handshake.
    delivered_by_get = (
        request.method == "GET"
        and connector.receives_get_deliveries
        and bool(request.META.get("QUERY_STRING"))
    )
    if request.method == "GET" and not delivered_by_get:
        answer = connector.webhook_handshake(channel, request.GET.dict())
        return (
            HttpResponse(answer, content_type="text/plain")
            if answer is not None
            else HttpResponse(status=404)
        )
    if channel.status == Channel.Status.PAUSED:
        # Platforms retry deliveries that fail: a paused channel keeps them waiting at the platform.
        return JsonResponse({"error": "channel paused"}, status=503)

    headers = _headers(request)
    if delivered_by_get:
        query = request.META["QUERY_STRING"].encode()
        body, oversized = query[:MAX_WEBHOOK_BYTES], len(query) > MAX_WEBHOOK_BYTES
        headers["content-type"] = "application/x-www-form-urlencoded"
    else:
        body, oversized = _read_body(request)
    if oversized:
        reason = f"payload larger than {MAX_WEBHOOK_BYTES // (1024 * 1024)} MB; first bytes kept"
        payload_refuse(
            channel=channel, source=RawPayload.Source.WEBHOOK, body=body, headers=headers, reason=reason
        )
        return JsonResponse({"error": reason}, status=413)
    try:
        connector.verify_webhook(channel, headers, body)
    except WebhookForbidden as error:
        payload_refuse(
            channel=channel,
            source=RawPayload.Source.WEBHOOK,
            body=body,
            headers=headers,
            reason=f"refused: {error.reason}",
        )
        logger.warning("webhook refused", extra={"channel": channel.pk, "reason": error.reason})
        return JsonResponse({"error": error.reason}, status=error.status)
    received = payload_receive(
        channel=channel,
        source=RawPayload.Source.WEBHOOK,
        body=body,
        headers=headers,
        content_type="application/x-www-form-urlencoded" if delivered_by_get else request.content_type or "",
        external_id=connector.payload_external_id(channel, body, headers),
    )
    answer = connector.webhook_answer()
    if answer is not None:
        return HttpResponse(answer[1], content_type=answer[0])
    return JsonResponse({"received": received.payload.pk, "duplicate": not received.created})
