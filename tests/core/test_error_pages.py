"""The error pages look like the app (its layout, its style sheet, a way back), with DEBUG off as in
production: 403 says which role the member has and what is open to them; 400 and 500 read nothing from
the request or the database."""

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults

from apps.accounts.models import Role

pytestmark = pytest.mark.django_db


def _looks_like_the_app(html: str) -> bool:
    return '<link rel="stylesheet" href="/static/css/app.css">' in html and 'class="card error-page"' in html


def test_a_marketer_refused_a_page_sees_why_and_where_to_go(org_a, make_membership, login, settings):
    assert settings.DEBUG is False
    client = login(make_membership(org_a, Role.MARKETER))
    answer = client.get(reverse("inbox:index"))
    html = answer.content.decode()
    assert answer.status_code == 403 and _looks_like_the_app(html)
    assert "This page is not open to you" in html and f"Marketer at {org_a.name}" in html
    assert "open to you read-only" in html
    assert f'href="{reverse("analytics:dashboard")}"' in html and f'href="{reverse("search:index")}"' in html


def test_a_missing_page_is_the_apps_404(org_a, make_membership, login, client):
    html = client.get("/no-such-page/").content.decode()
    assert _looks_like_the_app(html) and "Nothing here" in html  # anonymous: no menu
    member = login(make_membership(org_a, Role.COMMUNITY_MANAGER))
    answer = member.get(reverse("customers:detail", args=[999999]))
    assert answer.status_code == 404 and "Nothing here" in answer.content.decode()
    assert 'aria-label="Main"' in answer.content.decode()  # signed in: the app's menu


def test_server_errors_and_bad_requests_render_without_the_request(django_assert_num_queries):
    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        crashed = defaults.server_error(request)
        refused = defaults.bad_request(request, SuspiciousOperation("bad host"))
    assert crashed.status_code == 500 and _looks_like_the_app(crashed.content.decode())
    assert "Something went wrong on our side" in crashed.content.decode()
    assert refused.status_code == 400 and "could not be understood" in refused.content.decode()
