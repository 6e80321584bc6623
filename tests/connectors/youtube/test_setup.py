"""The YouTube channel set-up form, with its quota settings, and "Test connection"."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from tests.fakes.youtube import API_KEY, BRAND_CHANNEL, FakeYouTube

pytestmark = pytest.mark.django_db


def test_an_admin_sets_up_a_youtube_channel_and_tests_it(org_a, brand_a, make_membership, login):
    admin = login(make_membership(org_a, Role.ADMIN))
    form = reverse("connectors:create", args=[ChannelKind.YOUTUBE])
    page = admin.get(form).content.decode()
    assert "Daily quota (units)" in page and "100 units a search" in page
    with FakeYouTube() as youtube:
        answer = admin.post(
            form,
            {
                "name": "Nimbus on YouTube",
                "brand": brand_a.pk,
                "setting_channel_id": BRAND_CHANNEL,
                "setting_api_key": API_KEY,
                "setting_daily_quota": "5000",
                "setting_search_interval_minutes": "60",
                "setting_api_base": youtube.api_url,
            },
        )
        assert answer.status_code == 302, answer.content.decode()[:2000]
        channel = Channel.objects.get()
        assert channel.settings["daily_quota"] == 5000 and channel.credentials["api_key"] == API_KEY
        page = admin.post(reverse("connectors:test", args=[channel.pk]), follow=True).content.decode()
        assert "reading comments on Nimbus" in page
