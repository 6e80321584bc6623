"""Saved views: an agent keeps a list (view, filters, order) under a name, optionally for the whole team."""

import pytest
from django.urls import reverse

from apps.inbox.models import SavedView
from tests.factories import membership_create

from .conftest import conversation_with

pytestmark = pytest.mark.django_db
INDEX = reverse("inbox:index")
CREATE = reverse("inbox:saved_view_create")


def test_an_agent_saves_a_list_and_finds_it_on_the_page(desk, login):
    conversation_with(desk["email"], subject="Angry one", sentiment="negative")
    client = login(desk["agent"])

    response = client.post(
        CREATE,
        {"name": "Angry customers", "query": "sentiment=negative&sort=sla&colour=red&page=3"},
        follow=True,
    )

    saved = SavedView.objects.get()
    assert (saved.user, saved.name, saved.shared) == (desk["agent"].user, "Angry customers", False)
    assert saved.query == "sentiment=negative&sort=sla"  # validated: unknown and page-specific parts dropped
    assert response.redirect_chain[-1][0] == f"{INDEX}?sentiment=negative&sort=sla"
    page = response.content.decode()
    assert f'href="{INDEX}?sentiment=negative&amp;sort=sla">Angry customers</a>' in page
    assert "Angry one" in page


def test_saving_under_the_same_name_replaces_and_a_name_is_required(desk, login):
    client = login(desk["agent"])
    client.post(CREATE, {"name": "Mine", "query": "view=mine"})
    client.post(CREATE, {"name": "Mine", "query": "view=mine&priority=urgent"})
    refused = client.post(CREATE, {"name": "  ", "query": "view=mine"}, follow=True)

    assert list(SavedView.objects.values_list("name", "query")) == [("Mine", "view=mine&priority=urgent")]
    assert "A saved view needs a name of 1 to 80 characters." in refused.content.decode()


def test_shared_views_show_for_the_organisation_only_and_private_ones_for_their_owner(desk, org_b, login):
    client = login(desk["agent"])
    client.post(CREATE, {"name": "Team queue", "query": "view=team", "shared": "on"})
    client.post(CREATE, {"name": "My secret list", "query": "view=mine"}, follow=True)  # shows its message

    colleague_page = login(desk["colleague"]).get(INDEX).content.decode()
    outsider_page = login(membership_create(org_b)).get(INDEX).content.decode()

    assert "Team queue" in colleague_page and "(shared by agent)" in colleague_page
    assert "My secret list" not in colleague_page
    assert "Team queue" not in outsider_page


def test_only_the_owner_removes_a_view(desk, login):
    shared = SavedView.objects.create(
        organization=desk["org"], user=desk["agent"].user, name="Shared", shared=True
    )
    private = SavedView.objects.create(organization=desk["org"], user=desk["agent"].user, name="Private")

    colleague = login(desk["colleague"])
    refused = colleague.post(reverse("inbox:saved_view_delete", args=[shared.pk]), follow=True)
    hidden = colleague.post(reverse("inbox:saved_view_delete", args=[private.pk]))

    assert "Only the agent who saved this view can remove it." in refused.content.decode()
    assert hidden.status_code == 404
    owner = login(desk["agent"])
    owner.post(reverse("inbox:saved_view_delete", args=[private.pk]))
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Shared"]


def test_view_names_are_text(desk, login):
    client = login(desk["agent"])
    client.post(CREATE, {"name": "<img src=x onerror=alert(1)>", "query": ""})

    page = client.get(INDEX).content.decode()

    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
