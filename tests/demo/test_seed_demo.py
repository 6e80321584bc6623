import pytest
from django.core.management import call_command

from apps.accounts.models import Brand, Membership, Organization, Role
from apps.alerts.models import AlertRule
from apps.analytics.models import DirtyBucket, IntentDaily
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from apps.conversations.models import Conversation, Message
from apps.customers.models import Customer, MergeSuggestion
from apps.demo.generate import generate_demo

pytestmark = pytest.mark.django_db

REQUIRED_LANGUAGES = {"en", "ar", "id", "ru", "zh", "es"}


def test_demo_has_every_role_channel_kind_and_language():
    result = generate_demo(messages=600, seed=3)
    acme = Organization.objects.get(slug="acme")
    assert {m.role for m in Membership.objects.filter(organization=acme)} == set(Role.values)
    assert set(Channel.objects.filter(organization=acme).values_list("kind", flat=True)) == set(
        ChannelKind.values
    )
    inbound = Message.objects.filter(organization=acme, direction=Message.Direction.INBOUND)
    assert inbound.count() == result.messages >= 600
    assert set(inbound.values_list("language", flat=True)) >= REQUIRED_LANGUAGES
    # Customers reach the brands on several channels, joined into one profile on strong evidence.
    multi_channel = [
        c
        for c in Customer.objects.filter(organization=acme, merged_into=None)
        if len(set(c.conversations.values_list("channel__kind", flat=True))) > 1
    ]
    assert multi_channel
    assert MergeSuggestion.objects.filter(organization=acme).exists()
    spread = inbound.dates("sent_at", "day")
    assert len(spread) > 60
    conversation = Conversation.objects.filter(organization=acme).exclude(first_response_at=None).first()
    assert conversation.message_count >= 2
    assert len(result.credentials) == 5
    from apps.listening.models import Level, Mention

    assert set(Mention.objects.filter(organization=acme).values_list("level", flat=True)) == set(Level.values)
    # Every brand watches its volume and its negative share.
    assert (
        AlertRule.objects.filter(organization=acme, active=True).count()
        == 2 * Brand.objects.filter(organization=acme).count()
    )
    # Each brand ships saved replies in every language of the demo, and macros, ready for the composer.
    from apps.demo.phrases import LANGUAGES
    from apps.replies.macros import macro_actions_clean
    from apps.replies.models import Macro, SavedReply

    for brand in Brand.objects.filter(organization=acme):
        shelf = SavedReply.objects.filter(organization=acme, brand=brand)
        assert set(shelf.values_list("language", flat=True)) == set(LANGUAGES)
        assert "{{customer.first_name}}" in shelf.get(title="Thanks for the kind words (en)").body
        macros = Macro.objects.filter(organization=acme, brand=brand)
        assert macros.count() == len(LANGUAGES) + 2
        for macro in macros:
            assert macro_actions_clean(macro.actions, organization_id=acme.pk) == macro.actions


def test_seed_demo_runs_once(capsys, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", "--messages", "200")
    first = capsys.readouterr().out
    assert "Demo logins" in first and "marketer" in first
    # Complete when it says so: every inbound message classified, the dashboards' rollups built.
    inbound = Message.objects.filter(direction=Message.Direction.INBOUND)
    assert inbound.count() >= 200 and not inbound.filter(classified_at=None).exists()
    assert f"classified {inbound.count():,} of {inbound.count():,}" in first
    assert not DirtyBucket.objects.exists()
    assert IntentDaily.objects.filter(organization__slug="acme").exists()
    call_command("seed_demo", "--if-empty")
    assert Organization.objects.filter(slug="acme").count() == 1
    assert "marketer" in capsys.readouterr().out
