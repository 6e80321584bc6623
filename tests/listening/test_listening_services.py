import json

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.accounts.services import brand_create
from apps.connectors.kinds import ChannelKind
from apps.ingestion.services import payload_process, payload_receive
from apps.listening.models import Level, ListeningQuery, Mention
from tests.factories import ChannelFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def nimbus(org_a):
    return brand_create(
        organization=org_a,
        name="Nimbus",
        handles=["@nimbusmobile"],
        keywords=["Nimbus"],
        competitors=["Stratus Telecom"],
        category_terms=["phone plan"],
    )


def _ingest(channel, text, n=1, language=""):
    body = json.dumps({"id": f"m{n}", "text": text, "language": language, "author": {"id": f"u{n}"}}).encode()
    payload = payload_receive(channel=channel, source="webhook", body=body).payload
    payload_process(payload_id=payload.pk)


def test_a_new_brand_gets_starter_queries_for_every_level(nimbus):
    levels = set(ListeningQuery.objects.filter(brand=nimbus).values_list("level", flat=True))
    assert levels == set(Level.values)


def test_ingested_messages_are_tagged_by_level(nimbus, django_capture_on_commit_callbacks):
    public = ChannelFactory(brand=nimbus, kind=ChannelKind.WEBHOOK, credentials={"signing_secret": "s"})
    with django_capture_on_commit_callbacks(execute=True):
        _ingest(public, "@nimbusmobile my Nimbus phone plan is cheaper than Stratus Telecom's", n=1)
        _ingest(public, "nothing to see here", n=2)
    tags = set(Mention.objects.values_list("level", "competitor"))
    assert tags == {
        ("to_brand", ""),
        ("about_brand", ""),
        ("competitor", "Stratus Telecom"),
        ("category", ""),
    }
    assert Mention.objects.values("message").distinct().count() == 1


def test_private_channel_messages_are_to_the_brand(nimbus):
    whatsapp = ChannelFactory(brand=nimbus, kind=ChannelKind.WHATSAPP)
    message = MessageFactory(conversation__channel=whatsapp, text="hola")
    from apps.listening.services import message_apply_listening

    message_apply_listening(message)
    assert list(Mention.objects.values_list("level", flat=True)) == ["to_brand"]


def test_edited_queries_apply_to_the_next_message(nimbus):
    query = ListeningQuery.objects.get(brand=nimbus, level=Level.ABOUT_BRAND)
    query.query = "nimb*"
    query.save()
    from apps.listening.services import listening_cache_clear, message_apply_listening

    listening_cache_clear()  # as if the five seconds a worker trusts its compiled queries had passed
    message = MessageFactory(
        conversation__channel=ChannelFactory(brand=nimbus, kind=ChannelKind.X), text="Nimbuses everywhere"
    )
    message_apply_listening(message)
    assert Mention.objects.filter(level=Level.ABOUT_BRAND).exists()


def test_query_page_validates_and_previews(nimbus, org_a, make_membership, login):
    channel = ChannelFactory(brand=nimbus, kind=ChannelKind.X)
    MessageFactory(conversation__channel=channel, text="Café Nimbus en Madrid", language="es")
    MessageFactory(conversation__channel=channel, text="unrelated", language="es")
    client = login(make_membership(org_a, Role.ADMIN))
    preview = client.post(reverse("listening:preview"), {"query": "cafe nimbus lang:es"}).content.decode()
    assert "<strong>1</strong> stored messages match" in preview and "Café Nimbus" in preview
    broken = client.post(reverse("listening:preview"), {"query": "nimbus AND ("}).content.decode()
    assert 'role="alert"' in broken and "position" in broken
    response = client.post(
        reverse("listening:new"),
        {"brand": nimbus.pk, "name": "Bad", "level": "about_brand", "query": "foo:bar", "is_active": "on"},
    )
    assert response.status_code == 200 and "unknown filter" in response.content.decode().lower()
    response = client.post(
        reverse("listening:new"),
        {
            "brand": nimbus.pk,
            "name": "Good",
            "level": "about_brand",
            "query": '"nimbus x2" OR #nimbus',
            "is_active": "on",
        },
    )
    assert response.status_code == 302 and ListeningQuery.objects.filter(name="Good").exists()
    assert client.get(reverse("listening:list")).status_code == 200
