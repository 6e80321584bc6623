"""The LINE channel set-up form (secrets never shown again), "Test connection" and the webhook guide."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from tests.fakes.line import SECRET, TOKEN, FakeLine

pytestmark = pytest.mark.django_db


def test_an_admin_sets_up_a_line_channel_and_tests_it(org_a, brand_a, make_membership, login):
    admin = login(make_membership(org_a, Role.ADMIN))
    with FakeLine() as line:
        answer = admin.post(
            reverse("connectors:create", args=[ChannelKind.LINE]),
            {
                "name": "Nimbus LINE",
                "brand": brand_a.pk,
                "setting_channel_secret": SECRET,
                "setting_channel_access_token": TOKEN,
                "setting_fetch_content": "on",
                "setting_api_base": line.url,
                "setting_data_api_base": line.url,
            },
        )
        assert answer.status_code == 302, answer.content.decode()[:2000]
        channel = Channel.objects.get()
        assert channel.credentials == {"channel_secret": SECRET, "channel_access_token": TOKEN}
        page = admin.get(reverse("connectors:detail", args=[channel.pk])).content.decode()
        assert f"/hooks/{channel.webhook_token}/" in page and "Use webhook" in page
        assert SECRET not in page and TOKEN not in page

        page = admin.post(reverse("connectors:test", args=[channel.pk]), follow=True).content.decode()
        assert "connected as Nimbus Support" in page
        line.token = "rotated"
        page = admin.post(reverse("connectors:test", args=[channel.pk]), follow=True).content.decode()
        assert "access token was refused" in page
