"""Setting a Vonage SMS channel up in the app, and "Test connection" against the fake Vonage."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from tests.fakes.vonage import API_KEY, API_SECRET, SIGNATURE_SECRET, VONAGE_NUMBER, FakeVonage

pytestmark = pytest.mark.django_db


def test_an_admin_sets_up_vonage_and_tests_the_connection(org_a, brand_a, make_membership, login):
    admin = login(make_membership(org_a, Role.ADMIN))
    with FakeVonage() as vonage:
        answer = admin.post(
            reverse("connectors:create", args=[ChannelKind.SMS_VONAGE]),
            {
                "name": "Vonage SMS",
                "brand": brand_a.pk,
                "setting_api_key": API_KEY,
                "setting_api_secret": API_SECRET,
                "setting_signature_secret": SIGNATURE_SECRET,
                "setting_signature_method": "sha256",
                "setting_phone_number": VONAGE_NUMBER,
                "setting_api_base": vonage.url,
            },
        )
        assert answer.status_code == 302
        channel = Channel.objects.get()
        assert channel.settings["signature_method"] == "sha256"
        page = admin.get(reverse("connectors:detail", args=[channel.pk])).content.decode()
        assert f"/hooks/{channel.webhook_token}/" in page and "POST-JSON" in page
        assert API_SECRET not in page and SIGNATURE_SECRET not in page

        test = reverse("connectors:test", args=[channel.pk])
        page = admin.post(test, follow=True).content.decode()
        assert "connected: balance 10.28 EUR" in page

        channel.credentials = {**channel.credentials, "api_secret": "rotated"}
        channel.save()
        page = admin.post(test, follow=True).content.decode()
        assert "HTTP 401" in page and "fix it on the channel" in page
