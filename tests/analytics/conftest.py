"""A world of messages for the dashboards, and the same figures computed by hand from its raw rows."""

import math
import random
from collections import Counter
from datetime import UTC, timedelta

import factory
import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.analytics.terms import message_terms
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.listening.models import Level, Mention
from tests.connectors.livechat.test_widget_browser import asgi_server, page  # noqa: F401 (fixtures shared here)
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    ConversationFactory,
    IdentityFactory,
    MessageFactory,
    TeamFactory,
    membership_create,
)
from tests.ingestion.conftest import post_signed, webhook_channel  # noqa: F401 (fixtures shared here)

LEVEL_ORDER = ["to_brand", "about_brand", "competitor", "category"]
WORDS = [
    "refund",
    "delivery",
    "broken",
    "screen",
    "love",
    "battery",
    "support",
    "price",
    "late",
    "app",
    "café",
]
HASHTAGS = ["#fail", "#love", "#nimbus", "#5g"]
SENTIMENTS = ["negative", "neutral", "positive", ""]
INTENTS = ["complaint", "question", "praise", ""]
LANGUAGES = ["en", "es", "fr", ""]


class MentionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mention

    message = factory.SubFactory(MessageFactory)
    organization = factory.SelfAttribute("message.organization")
    brand = factory.SelfAttribute("message.conversation.brand")
    level = Level.ABOUT_BRAND


@pytest.fixture
def world(org_a, brand_a, org_b, brand_b):
    """Organisation A: brand A (channels email and x) and brand A2 (chat) whose customers also talk about
    brand A and its rival; two teams; organisation B with a brand of its own. 60 conversations over the
    last 12 days with 1–3 inbound messages each, labels, authors, mentions and response times."""
    rng = random.Random(7)
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    other = BrandFactory(organization=org_a, name="Brand A2")
    channels = [
        ChannelFactory(brand=brand_a, name="Mail", kind=ChannelKind.EMAIL),
        ChannelFactory(brand=brand_a, name="X", kind=ChannelKind.X),
        ChannelFactory(brand=other, name="Chat", kind=ChannelKind.LIVECHAT),
    ]
    teams = [TeamFactory(organization=org_a, name="Care"), TeamFactory(organization=org_a, name="Social")]
    authors = [
        IdentityFactory(customer__organization=org_a, followers=rng.randrange(0, 50000)) for _ in range(6)
    ]
    for n in range(60):
        channel = channels[n % 3]
        started = now - timedelta(hours=rng.randrange(0, 12 * 24))
        status = rng.choice([Conversation.Status.OPEN, Conversation.Status.CLOSED])
        conversation = ConversationFactory(
            channel=channel,
            team=rng.choice(teams + [None]),
            status=status,
            first_response_at=started + timedelta(seconds=rng.randrange(30, 20000)) if n % 4 else None,
            resolved_at=started + timedelta(seconds=rng.randrange(20000, 200000))
            if status == "closed"
            else None,
            last_message_at=started,
            language=rng.choice(LANGUAGES),
        )
        for k in range(rng.randrange(1, 4)):
            words = (
                rng.sample(WORDS, 3) + rng.sample(HASHTAGS, rng.randrange(0, 2)) + ["the", "@someone", "42"]
            )
            message = MessageFactory(
                conversation=conversation,
                text=" ".join(words).capitalize(),
                sent_at=started + timedelta(minutes=7 * k),
                sentiment=rng.choice(SENTIMENTS),
                intent=rng.choice(INTENTS),
                language=rng.choice(LANGUAGES),
                author_identity=rng.choice(authors + [None]),
            )
            if channel.brand == other and rng.random() < 0.6:
                MentionFactory(
                    message=message, brand=brand_a, level=rng.choice(LEVEL_ORDER[1:]), competitor=""
                )
            if rng.random() < 0.3:
                MentionFactory(
                    message=message,
                    brand=brand_a,
                    level=Level.COMPETITOR,
                    competitor="Rival Co",
                    relevant=rng.choice([True, None, False]),
                )
        MessageFactory(
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            text="We are on it",
            sent_at=started + timedelta(hours=1),
        )
    elsewhere = ChannelFactory(brand=brand_b)
    MessageFactory(conversation=ConversationFactory(channel=elsewhere), text="Secret #orgb words")
    return {
        "org": org_a,
        "brand": brand_a,
        "other": other,
        "channels": channels,
        "teams": teams,
        "marketer": membership_create(org_a, Role.MARKETER),
        "limited": membership_create(org_a, Role.MARKETER, brands=[other]),
        "outsider": membership_create(org_b, Role.MARKETER),
        "now": now,
    }


def hand_pairs(brand, since, until) -> list[tuple[Message, str]]:
    """The brand's (message, level) pairs of the UTC days since..until, by the rule of the models' docstring,
    computed in Python from the raw rows."""
    pairs = []
    for message in Message.objects.filter(
        organization=brand.organization, direction="inbound"
    ).select_related("conversation", "author_identity"):
        day = message.sent_at.astimezone(UTC).date()
        if not since <= day <= until:
            continue
        if message.conversation.brand_id == brand.pk:
            pairs.append((message, "to_brand"))
            continue
        levels = [
            m.level for m in Mention.objects.filter(message=message, brand=brand) if m.relevant is not False
        ]
        if levels:
            pairs.append((message, min(levels, key=LEVEL_ORDER.index)))
    return pairs


def nearest_rank(values: list[int], fraction: float) -> int | None:
    """percentile_disc: the smallest value whose cumulative share reaches the fraction."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def hand_terms(pairs, hashtags: bool) -> Counter:
    counts = Counter()
    for message, _ in pairs:
        for term, is_hashtag in message_terms(message.text):
            if is_hashtag == hashtags:
                counts[term] += 1
    return counts
