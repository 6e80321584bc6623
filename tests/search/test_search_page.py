"""The /search/ page: results with highlighted snippets and facets, clear syntax errors, tenant scoping."""

import time

import pytest
from django.urls import reverse

from apps.accounts.models import Role, User
from apps.listening.query import QuerySyntaxError, parse
from tests.factories import membership_create

from .conftest import message_on

pytestmark = pytest.mark.django_db


def test_the_page_shows_matches_with_snippets_facets_and_links(world, login):
    message = message_on(world["email"], "My refund has not arrived", sentiment="negative")
    response = login(world["agent"]).get(reverse("search:index"), {"q": "refunds"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<mark>refund</mark> has not arrived" in page
    assert f'href="/inbox/c/{message.conversation_id}/#message-{message.pk}"' in page
    assert 'data-facet="sentiment" data-value="negative"' in page
    assert 'href="?q=refunds&amp;sentiment=negative"' in page  # a facet narrows the search
    assert 'data-total="1"' in page
    assert 'href="/search/"' in page  # the navigation link


def test_htmx_requests_get_only_the_results(world, login):
    message_on(world["email"], "refund please")
    response = login(world["agent"]).get(
        reverse("search:index"), {"q": "refund", "sentiment": "nonsense"}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert "<html" not in page and "<mark>refund</mark>" in page
    assert "sentiment: “nonsense” is not one of" in page  # a bad filter is left out, and said so
    assert response["HX-Push-Url"] == "/search/?q=refund"


def test_bad_syntax_gets_a_clear_error_with_its_position(world, login):
    query = "nimbus AND (battery"
    with pytest.raises(QuerySyntaxError) as expected:
        parse(query)
    response = login(world["agent"]).get(reverse("search:index"), {"q": query})
    assert response.status_code == 200
    page = response.content.decode()
    assert "This search cannot run" in page
    assert expected.value.message.replace("'", "&#x27;") in page
    assert f"at character {expected.value.position + 1}" in page


def test_hostile_text_and_queries_stay_inert_on_the_page(world, login):
    message_on(world["email"], "<script>alert(1)</script><b onmouseover=x>refund</b>")
    page = login(world["agent"]).get(reverse("search:index"), {"q": 'refund "<script>"'}).content.decode()
    assert "<script>alert" not in page and "<b onmouseover" not in page
    assert 'value="refund &quot;&lt;script&gt;&quot;"' in page


def test_the_page_shows_only_what_the_membership_may_see(world, login):
    message_on(world["email"], "secret roadmap")
    on_x = message_on(world["x"], "secret roadmap on X")
    message_on(world["other_org_channel"], "secret roadmap of another organisation")
    page = login(world["limited"]).get(reverse("search:index"), {"q": "secret"}).content.decode()
    assert page.count("<mark>secret</mark>") == 1 and f"#message-{on_x.pk}" in page


def test_people_without_the_inbox_search_into_the_read_only_pages(world, login):
    """Marketers search too (issue 16): their hits open the read-only conversation, not the inbox's."""
    found = message_on(world["email"], "secret roadmap")
    marketer = membership_create(world["org"], Role.MARKETER)
    page = login(marketer).get(reverse("search:index"), {"q": "secret"}).content.decode()
    read_only = f"{reverse('reader:conversation', args=[found.conversation_id])}#message-{found.pk}"
    assert read_only in page and reverse("inbox:conversation", args=[found.conversation_id]) not in page


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_platform_operator_rebuilds_the_index_from_the_page_and_watches_it(world, client, celery_worker):

    operator = User.objects.create_superuser("operator", "ops@example.com", "x")
    client.force_login(operator)
    page = client.get(reverse("search:reindex")).content.decode()
    assert "Rebuild the search index" in page and "PostgresBackend" in page

    started = client.post(reverse("search:reindex_start"), headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in started and "<progress" in started
    deadline = time.monotonic() + 60
    while "The last rebuild is complete" not in (
        progress := client.get(reverse("search:reindex_progress")).content.decode()
    ):
        assert time.monotonic() < deadline, progress
        time.sleep(0.3)
    assert 'hx-trigger="every 1s"' not in progress  # finished: the page stops polling


def test_an_organisation_admin_cannot_rebuild_the_platform_index(world, login):
    admin = login(membership_create(world["org"], Role.ADMIN, username="org-admin"))
    assert admin.get(reverse("search:reindex")).status_code == 302
    assert admin.post(reverse("search:reindex_start")).status_code == 302
