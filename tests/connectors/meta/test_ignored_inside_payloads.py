"""The channel page's "Ignored events" counts the events ignored inside payloads that also stored or applied
something, not only the payloads ignored whole."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from apps.accounts.models import Role
from apps.ingestion.models import RawPayload
from tests.fakes.meta import whatsapp_status, whatsapp_text, whatsapp_value, whatsapp_webhook

pytestmark = pytest.mark.django_db


def _ignored_rows(page) -> list[str]:
    section = page.content.decode().split('id="ignored"')[1].split("</section>")[0]
    return [row for row in section.split("<tr>") if "<code>" in row]


def test_events_ignored_inside_a_payload_that_stored_a_message_are_counted(
    whatsapp_channel, ingest, org_a, make_membership, login
):
    # A message and a receipt for a message CXM never sent, in one notification (twice), and a receipt
    # alone: the first two payloads are processed, the third ignored whole; all three count.
    for index in (1, 2):
        payload = ingest(
            whatsapp_channel,
            whatsapp_webhook(
                whatsapp_value(
                    messages=[whatsapp_text(f"wamid.in{index}", "Hi")],
                    statuses=[whatsapp_status(f"wamid.unknown{index}", "delivered")],
                )
            ),
        )
        assert payload.status == RawPayload.Status.PROCESSED
        assert payload.outcome["ignored"][0]["event"] == "status:delivered"
    alone = ingest(
        whatsapp_channel, whatsapp_webhook(whatsapp_value(statuses=[whatsapp_status("wamid.x", "delivered")]))
    )
    assert alone.status == RawPayload.Status.IGNORED

    page = login(make_membership(org_a, Role.ADMIN)).get(
        reverse("connectors:detail", args=[whatsapp_channel.pk])
    )
    rows = _ignored_rows(page)
    assert len(rows) == 1, rows
    assert "status:delivered" in rows[0] and "<td>3</td>" in rows[0]
    assert "no message sent from CXM" in rows[0]


def test_the_channel_page_title_is_the_channel_name(whatsapp_channel, org_a, make_membership, login):
    page = login(make_membership(org_a, Role.ADMIN)).get(
        reverse("connectors:detail", args=[whatsapp_channel.pk])
    )
    title = page.content.decode().split("<title>")[1].split("</title>")[0]
    assert "<section" not in title and escape(whatsapp_channel.name) in title
