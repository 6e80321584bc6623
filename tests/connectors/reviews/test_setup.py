"""Setting a review channel up in the app: the form the connector declares, secrets never echoed, "Test
connection" against the platform's fake, and an admin fixing refused credentials to bring the channel back."""

from html import escape

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.models import Channel
from apps.connectors.registry import connector_for
from apps.ingestion.polling import channel_poll

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org_a, make_membership, login):
    return login(make_membership(org_a, Role.ADMIN))


def _form(platform, fake, brand) -> dict:
    fields = platform.connect(fake)
    form = {"name": f"Nimbus on {platform.kind.label}", "brand": brand.pk}
    for setting in connector_for(platform.kind).setup_fields:
        value = (fields["credentials"] if setting.stored_in_credentials else fields["settings"]).get(
            setting.key
        )
        if value is not None:
            form[f"setting_{setting.key}"] = value
    return form


def test_an_admin_sets_a_review_channel_up_tests_it_and_fixes_its_credentials(admin, platform, fake, nimbus):
    platform.add(fake, "Ana Ruiz", 2, "Roaming charges nobody warned me about.")
    answer = admin.post(reverse("connectors:create", args=[platform.kind]), _form(platform, fake, nimbus))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    channel = Channel.objects.get(kind=platform.kind)
    secrets = [s.key for s in connector_for(platform.kind).setup_fields if s.secret]
    page = admin.get(reverse("connectors:settings", args=[channel.pk])).content.decode()
    for key in secrets:
        assert channel.credentials[key] and channel.credentials[key] not in page

    page = admin.post(reverse("connectors:test", args=[channel.pk]), follow=True).content.decode()
    assert "connected: 1 review(s) on the latest page (nothing was stored)" in page

    # The platform stops accepting the credentials: the poll puts the channel in error, saying so.
    secret = secrets[-1]
    channel.credentials = {**channel.credentials, secret: "revoked"}
    channel.save()
    assert channel_poll(channel_id=channel.pk) == 0
    channel.refresh_from_db()
    assert channel.status == Channel.Status.ERROR
    assert "channel's settings" in channel.last_error or "not a PEM key" in channel.last_error
    page = admin.get(reverse("connectors:list")).content.decode()
    assert escape(channel.last_error[:60]) in page

    # The admin pastes working credentials again: the channel is active and polls.
    form = _form(platform, fake, nimbus)
    answer = admin.post(reverse("connectors:settings", args=[channel.pk]), form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    channel.refresh_from_db()
    assert channel.status == Channel.Status.ACTIVE
    assert channel_poll(channel_id=channel.pk) == 1
