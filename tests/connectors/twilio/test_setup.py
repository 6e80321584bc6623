"""Setting a Twilio channel up in the app: the form from the connector's declared settings, the webhook
guide with the URL to paste in Twilio, and "Test connection" against the fake Twilio."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, FakeTwilio

pytestmark = pytest.mark.django_db


def test_an_admin_sets_up_twilio_and_tests_the_connection(org_a, brand_a, make_membership, login):
    admin = login(make_membership(org_a, Role.ADMIN))
    with FakeTwilio() as twilio:
        answer = admin.post(
            reverse("connectors:create", args=[ChannelKind.SMS_TWILIO]),
            {
                "name": "Support SMS",
                "brand": brand_a.pk,
                "setting_account_sid": ACCOUNT_SID,
                "setting_auth_token": AUTH_TOKEN,
                "setting_phone_number": TWILIO_NUMBER,
                "setting_api_base": twilio.url,
            },
        )
        assert answer.status_code == 302
        channel = Channel.objects.get()
        assert channel.credentials == {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
        page = admin.get(reverse("connectors:detail", args=[channel.pk])).content.decode()
        assert f"/hooks/{channel.webhook_token}/" in page and "A message comes in" in page
        assert AUTH_TOKEN not in page

        test = reverse("connectors:test", args=[channel.pk])
        page = admin.post(test, follow=True).content.decode()
        assert "connected to “Nimbus Support”" in page and f"{TWILIO_NUMBER} delivers to" in page

        channel.credentials = {**channel.credentials, "auth_token": "rotated"}
        channel.save()
        page = admin.post(test, follow=True).content.decode()
        assert "error 20003" in page and "fix it on the channel" in page
