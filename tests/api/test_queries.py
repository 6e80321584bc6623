"""A page of a list costs the same few queries however many rows it shows (no query per row)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url", ["/api/v1/conversations/", "/api/v1/messages/", "/api/v1/customers/", "/api/v1/identities/"]
)
def test_a_page_costs_the_same_queries_for_2_rows_or_22(world, api, url):
    client = api(world["agent"])
    client.get(url)  # the token's first use records when it was used; later calls within a minute do not
    few = queries_for(client, url)
    for _ in range(10):
        MessageFactory(conversation=ConversationFactory(channel=world["a"]["channel"]))
    assert queries_for(client, url) == few
