"""The signed-webhook API channel at /hooks/<token>/: forged, oversized and malformed requests."""

import time

import pytest

from apps.conversations.models import Message
from apps.ingestion.models import RawPayload
from apps.ingestion.views import MAX_WEBHOOK_BYTES
from tests.ingestion.conftest import message

pytestmark = pytest.mark.django_db


def test_signed_delivery_is_stored_and_acknowledged(
    webhook_channel, post_signed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_signed(webhook_channel, message(1))
    assert response.status_code == 200, response.content
    payload = RawPayload.objects.get(pk=response.json()["received"])
    assert payload.status == RawPayload.Status.RECEIVED and payload.source == "webhook"
    assert "x-cxm-signature" in payload.headers and "cookie" not in payload.headers
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    "kwargs, status, reason",
    [
        ({"secret": None}, 401, "missing X-CXM-Signature"),
        ({"secret": "wrong-secret"}, 403, "signature does not match"),
        ({"signature": "sha256=" + "0" * 64}, 403, "signature does not match"),
        ({"timestamp": int(time.time()) - 3600}, 403, "more than 5 minutes off"),
        ({"timestamp": "soon"}, 403, "malformed"),
    ],
)
def test_forged_requests_are_refused_and_kept_for_inspection(
    webhook_channel, post_signed, kwargs, status, reason
):
    response = post_signed(webhook_channel, message(1), **kwargs)
    assert response.status_code == status
    assert reason in response.json()["error"]
    kept = RawPayload.objects.get()
    assert kept.status == RawPayload.Status.REJECTED and reason in kept.rejection_reason
    assert not Message.objects.exists()


def test_ten_megabyte_payload_is_refused_with_a_reason(webhook_channel, post_signed):
    huge = b'{"id": "big", "text": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    response = post_signed(webhook_channel, huge)
    assert response.status_code == 413 and "larger than" in response.json()["error"]
    kept = RawPayload.objects.get()
    assert kept.status == RawPayload.Status.REJECTED and len(bytes(kept.body)) == 64 * 1024
    assert len(huge) > MAX_WEBHOOK_BYTES


def test_unknown_token_and_paused_channel(webhook_channel, client, post_signed):
    assert client.post("/hooks/not-a-token/", b"{}", content_type="application/json").status_code == 404
    webhook_channel.status = "paused"
    webhook_channel.save()
    assert post_signed(webhook_channel, message(1)).status_code == 503
    assert not RawPayload.objects.exists()
