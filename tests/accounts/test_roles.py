import pytest
from django.urls import reverse

from apps.accounts.models import Role
from tests.factories import ChannelFactory, ConversationFactory

pytestmark = pytest.mark.django_db

LANDING = {
    Role.ADMIN: ("accounts:overview", "Channels"),
    Role.COMMUNITY_MANAGER: ("inbox:index", "Inbox views"),
    Role.MARKETER: ("analytics:dashboard", "Volume over time"),
}


@pytest.mark.parametrize("role", list(LANDING))
def test_each_role_lands_on_its_page(role, org_a, brand_a, make_membership, login):
    ConversationFactory(channel=ChannelFactory(brand=brand_a))
    client = login(make_membership(org_a, role))
    response = client.get(reverse("home"), follow=True)
    view_name, marker = LANDING[role]
    assert response.redirect_chain[-1][0] == reverse(view_name)
    assert response.status_code == 200
    assert marker in response.content.decode()


def test_marketer_reads_dashboards_but_not_the_inbox(org_a, make_membership, login):
    client = login(make_membership(org_a, Role.MARKETER))
    assert client.get(reverse("analytics:dashboard")).status_code == 200
    assert client.get(reverse("inbox:index")).status_code == 403
    assert client.get(reverse("accounts:overview")).status_code == 403


def test_anonymous_users_are_sent_to_login(client, db):
    response = client.get(reverse("inbox:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get(reverse("login")).status_code == 200


def test_user_without_membership_is_told_so(client, django_user_model):
    django_user_model.objects.create_user("loner", password="pw-123456789")
    client.login(username="loner", password="pw-123456789")
    assert client.get(reverse("home")).status_code == 403
