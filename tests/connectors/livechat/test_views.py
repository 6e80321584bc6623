"""The demo host page (DEBUG, superusers, the channel's own agents) and the widget script it serves."""

import re

import pytest

from apps.accounts.models import Role, User
from apps.connectors.livechat.visitor import visitor_token_verify
from tests.factories import PASSWORD, BrandFactory

from .helpers import IDENTITY_SECRET, livechat_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(brand_a):
    return livechat_channel(brand_a)


def _demo(client, channel, query=""):
    return client.get(f"/livechat/{channel.webhook_token}/demo/{query}")


def test_the_demo_page_is_hidden_from_strangers(client, channel, settings, org_b, make_membership, login):
    settings.DEBUG = False
    assert _demo(client, channel).status_code == 404
    login(make_membership(org_b, Role.ADMIN))
    assert _demo(client, channel).status_code == 404
    assert client.get("/livechat/no-such-token/demo/").status_code == 404


def test_the_demo_page_is_hidden_from_marketers_and_agents_of_other_brands(
    client, channel, settings, org_a, make_membership, login
):
    settings.DEBUG = False
    login(make_membership(org_a, Role.MARKETER))
    assert _demo(client, channel).status_code == 404
    client.logout()
    other_brand = BrandFactory(organization=org_a)
    login(make_membership(org_a, Role.COMMUNITY_MANAGER, brands=[other_brand]))
    assert _demo(client, channel).status_code == 404


def test_agents_superusers_and_debug_see_the_demo_page(
    client, channel, settings, org_a, make_membership, login
):
    settings.DEBUG = False
    login(make_membership(org_a, Role.COMMUNITY_MANAGER))
    page = _demo(client, channel)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-cxm-channel="{channel.webhook_token}"' in html
    assert '<script src="/static/widget/cxm-chat.js"' in html and "data-cxm-visitor-token" not in html
    client.logout()
    staff = User.objects.create_user("staffer", password=PASSWORD, is_staff=True)
    client.force_login(staff)
    assert _demo(client, channel).status_code == 404  # staff = an admin of some organisation
    client.force_login(User.objects.create_superuser("root", password=PASSWORD))
    assert _demo(client, channel).status_code == 200
    client.logout()
    settings.DEBUG = True
    assert _demo(client, channel).status_code == 200


def test_the_demo_page_can_act_as_a_logged_in_site_user(client, channel, settings):
    settings.DEBUG = True
    html = _demo(client, channel, "?login=user-7&name=Bo&email=bo@example.com").content.decode()
    token = re.search(r'data-cxm-visitor-token="([^"]+)"', html).group(1)
    identity = visitor_token_verify(IDENTITY_SECRET, token)
    assert (identity.user_id, identity.name, identity.email) == ("user-7", "Bo", "bo@example.com")


def test_the_widget_script_is_served_and_never_renders_html(client):
    response = client.get("/static/widget/cxm-chat.js")
    assert response.status_code == 200
    source = b"".join(response.streaming_content if response.streaming else [response.content]).decode()
    assert "data-cxm-channel" in source and "/ws/livechat/" in source
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source and "eval(" not in source
