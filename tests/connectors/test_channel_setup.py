"""Channel set-up in the app: a form per connector kind from the settings each connector declares, secrets
masked and never echoed, clear validation, "Test connection" against the platform (fakes on 127.0.0.1),
the webhook guide (Meta's verify token, Telegram's setWebhook); admin-only, scoped, audited."""

from html import escape

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from apps.connectors.registry import all_connectors
from apps.core.models import AuditEvent
from tests.factories import BrandFactory, ChannelFactory
from tests.fakes.meta import APP_SECRET, PAGE_TOKEN, PHONE_NUMBER_ID, FakeGraph
from tests.fakes.telegram import TOKEN, FakeTelegram

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org_a, make_membership, login):
    return login(make_membership(org_a, Role.ADMIN))


def _telegram_form(brand, api_base, **extra):
    return {
        "name": "Nimbus bot",
        "brand": brand.pk,
        "setting_bot_token": TOKEN,
        "setting_receive": "webhook",
        "setting_api_base": api_base,
        **extra,
    }


def test_every_connector_kind_gets_a_form_from_its_declared_settings(admin):
    chooser = admin.get(reverse("connectors:new")).content.decode()
    for kind, connector in all_connectors().items():
        assert reverse("connectors:create", args=[kind]) in chooser
        page = admin.get(reverse("connectors:create", args=[kind]))
        assert page.status_code == 200
        html = page.content.decode()
        for setting in connector.setup_fields:
            assert escape(setting.label) in html, (kind, setting.key)
            if setting.secret:
                name = "setting_" + setting.key.replace(".", "__")
                assert f'type="password" name="{name}"' in html, (kind, setting.key)
    assert admin.get(reverse("connectors:create", args=["no-such-kind"])).status_code == 404


def test_an_admin_creates_a_channel_and_its_secrets_are_never_shown_again(admin, brand_a):
    answer = admin.post(
        reverse("connectors:create", args=[ChannelKind.TELEGRAM]), _telegram_form(brand_a, "")
    )
    channel = Channel.objects.get(name="Nimbus bot")
    assert answer.status_code == 302 and answer["Location"] == reverse("connectors:detail", args=[channel.pk])
    assert channel.brand == brand_a and channel.kind == ChannelKind.TELEGRAM
    assert channel.credentials["bot_token"] == TOKEN
    assert len(channel.credentials["webhook_secret"]) >= 24  # made by CXM, handed to Telegram later
    assert channel.settings == {"receive": "webhook"}
    for page in (
        admin.get(reverse("connectors:detail", args=[channel.pk])),
        admin.get(reverse("connectors:settings", args=[channel.pk])),
    ):
        html = page.content.decode()
        assert TOKEN not in html and channel.credentials["webhook_secret"] not in html
    settings_page = admin.get(reverse("connectors:settings", args=[channel.pk])).content.decode()
    assert f"Stored (••••{TOKEN[-4:]}); leave empty to keep it." in settings_page
    event = AuditEvent.objects.get(action="channel.create", target_id=str(channel.pk))
    assert event.data["settings"] == ["bot_token", "receive", "webhook_secret"]
    assert TOKEN not in str(event.data)


def test_an_edit_keeps_a_secret_left_empty_and_says_what_changed(admin, brand_a):
    channel = ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.TELEGRAM,
        credentials={"bot_token": TOKEN, "webhook_secret": "kept-secret-value"},
        settings={"receive": "webhook", "note": "not declared, kept"},
        status=Channel.Status.ERROR,
    )
    answer = admin.post(
        reverse("connectors:settings", args=[channel.pk]),
        {"name": channel.name, "setting_receive": "polling", "setting_bot_token": ""},
        follow=True,
    )
    assert "Saved: receive." in answer.content.decode()
    channel.refresh_from_db()
    assert channel.credentials == {"bot_token": TOKEN, "webhook_secret": "kept-secret-value"}
    assert channel.settings == {"receive": "polling", "note": "not declared, kept"}
    assert channel.status == Channel.Status.ACTIVE  # new settings: the next poll tries them
    admin.post(
        reverse("connectors:settings", args=[channel.pk]),
        {"name": "Renamed", "setting_receive": "polling", "setting_bot_token": "999:NEW-token-value"},
    )
    channel.refresh_from_db()
    assert channel.name == "Renamed" and channel.credentials["bot_token"] == "999:NEW-token-value"
    changes = AuditEvent.objects.filter(action="channel.configure", target_id=str(channel.pk))
    assert [event.data["changed"] for event in changes.order_by("pk")] == [["receive"], ["bot_token", "name"]]


def test_bad_settings_are_refused_with_the_reason_beside_each_field(admin, brand_a, settings):
    url = reverse("connectors:create", args=[ChannelKind.TELEGRAM])
    answer = admin.post(url, {"name": "", "brand": brand_a.pk, "setting_receive": "carrier-pigeon"})
    html = answer.content.decode()
    assert answer.status_code == 400 and "Some settings need a fix" in html
    assert html.count("This field is required.") == 2  # the name and the bot token
    assert "Select a valid choice. carrier-pigeon is not one of the available choices." in html
    answer = admin.post(url, _telegram_form(brand_a, "not a url", setting_poll_timeout="500"))
    html = answer.content.decode()
    assert "Enter a valid URL." in html and "Ensure this value is less than or equal to 50." in html
    assert TOKEN not in html  # a secret typed in is not echoed back, even on an error
    settings.CXM_ALLOW_PRIVATE_DESTINATIONS = False
    html = admin.post(url, _telegram_form(brand_a, "http://127.0.0.1:9/")).content.decode()
    assert "is on a private, loopback or reserved address (127.0.0.1)" in html
    assert not Channel.objects.exists()


def test_a_brand_limited_admin_sets_up_channels_of_their_brands_only(org_a, brand_a, make_membership, login):
    other = BrandFactory(organization=org_a, name="Other brand")
    client = login(make_membership(org_a, Role.ADMIN, brands=[brand_a]))
    page = client.get(reverse("connectors:create", args=[ChannelKind.WEBHOOK])).content.decode()
    assert brand_a.name in page and "Other brand" not in page
    answer = client.post(
        reverse("connectors:create", args=[ChannelKind.WEBHOOK]),
        {"name": "x", "brand": other.pk, "setting_signing_secret": "a-long-enough-secret"},
    )
    assert answer.status_code == 400 and not Channel.objects.exists()
    theirs = ChannelFactory(brand=other)
    assert client.get(reverse("connectors:settings", args=[theirs.pk])).status_code == 404


def test_test_connection_asks_telegram_and_registers_the_webhook(admin, brand_a):
    with FakeTelegram() as telegram:
        admin.post(
            reverse("connectors:create", args=[ChannelKind.TELEGRAM]), _telegram_form(brand_a, telegram.url)
        )
        channel = Channel.objects.get()
        test = reverse("connectors:test", args=[channel.pk])
        page = admin.post(test, follow=True).content.decode()
        assert "connected as @nimbus_support_bot; no webhook is registered yet: register it below" in page

        register = reverse("connectors:webhook_register", args=[channel.pk])
        page = admin.post(register, follow=True).content.decode()  # http://: Telegram wants HTTPS
        assert "An HTTPS URL must be provided for webhook" in page and not telegram.webhook

        page = admin.post(register, follow=True, secure=True).content.decode()
        hook = f"https://testserver/hooks/{channel.webhook_token}/"
        assert f"Telegram will deliver updates to {hook}" in page
        assert telegram.webhook == {"url": hook, "secret_token": channel.credentials["webhook_secret"]}
        page = admin.post(test, follow=True, secure=True).content.decode()
        assert f"Telegram delivers to {hook}" in page

        channel.credentials = {**channel.credentials, "bot_token": "1:revoked"}
        channel.save()
        page = admin.post(test, follow=True).content.decode()
        assert "the bot token was refused by Telegram (Telegram getMe: Unauthorized)" in page
    results = AuditEvent.objects.filter(action="channel.test").order_by("pk")
    assert [event.data["ok"] for event in results] == [True, True, False]
    assert AuditEvent.objects.filter(action="channel.webhook_register").count() == 2


def test_meta_channels_show_the_verify_token_to_paste_and_test_the_token(admin, brand_a, client):
    with FakeGraph() as graph:
        admin.post(
            reverse("connectors:create", args=[ChannelKind.WHATSAPP]),
            {
                "name": "WhatsApp",
                "brand": brand_a.pk,
                "setting_phone_number_id": PHONE_NUMBER_ID,
                "setting_access_token": PAGE_TOKEN,
                "setting_app_secret": APP_SECRET,
                "setting_graph_base": graph.url,
            },
        )
        channel = Channel.objects.get()
        verify_token = channel.credentials["verify_token"]
        page = admin.get(reverse("connectors:detail", args=[channel.pk])).content.decode()
        assert verify_token in page and "Verify and save" in page
        assert f"/hooks/{channel.webhook_token}/" in page
        assert PAGE_TOKEN not in page and APP_SECRET not in page

        # What Meta does when the admin presses "Verify and save" with that token.
        hook = reverse("ingestion:webhook", args=[channel.webhook_token])
        challenge = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": "1158201444"}
        assert client.get(hook, challenge).content == b"1158201444"

        page = admin.post(reverse("connectors:test", args=[channel.pk]), follow=True).content.decode()
        assert "connected to 15550783881 Nimbus Mobile; signed webhooks only" in page
        channel.credentials = {**channel.credentials, "phone_number_id": "1234"}
        channel.save()
        page = admin.post(reverse("connectors:test", args=[channel.pk]), follow=True).content.decode()
        assert "Object with ID &#x27;1234&#x27; does not exist" in page


def test_channel_setup_is_for_admins_only(org_a, brand_a, make_membership, login):
    channel = ChannelFactory(brand=brand_a)
    for role in (Role.COMMUNITY_MANAGER, Role.MARKETER):
        client = login(make_membership(org_a, role))
        assert client.get(reverse("connectors:new")).status_code == 403
        assert client.get(reverse("connectors:settings", args=[channel.pk])).status_code == 403
