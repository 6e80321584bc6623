"""The channel page counts the payloads ignored, by the platform's event type, with the reason."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from tests.connectors.telegram.conftest import SECRET
from tests.fakes.telegram import CUSTOMER, my_chat_member_update

pytestmark = pytest.mark.django_db


def test_ignored_events_are_counted_by_type_on_the_channel_page(
    telegram_channel, post_update, org_a, make_membership, login
):
    updates = [
        my_chat_member_update(1),
        my_chat_member_update(2),
        {"update_id": 3, "inline_query": {"id": "1", "from": CUSTOMER, "query": "plans", "offset": ""}},
        {"update_id": 4, "some_future_update": {"x": 1}},
    ]
    for update in updates:
        response = post_update(telegram_channel, update, secret=SECRET)
        payload = payload_process(payload_id=response.json()["received"])
        assert payload.status == RawPayload.Status.IGNORED and payload.ignored_reason

    page = login(make_membership(org_a, Role.ADMIN)).get(
        reverse("connectors:detail", args=[telegram_channel.pk])
    )
    section = page.content.decode().split('id="ignored"')[1]
    rows = [row for row in section.split("<tr>") if "<code>" in row]
    assert "my_chat_member" in rows[0] and "<td>2</td>" in rows[0] and "membership" in rows[0]
    assert any("inline_query" in row and "<td>1</td>" in row for row in rows)
    assert any("some_future_update" in row and "does not know" in row for row in rows)
