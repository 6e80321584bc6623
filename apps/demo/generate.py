"""Generates the demo: organisations, brands, users of every role, channels of every kind, customers with
identities on several channels, and thousands of messages in several languages over 90 days.

Everything is made up here, from the phrase bank in phrases.py; nothing is copied from any dataset.
"""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from apps.accounts.models import Organization, Role
from apps.accounts.services import brand_create, member_add, organization_create, team_create
from apps.alerts.models import AlertRule
from apps.alerts.services import alert_rule_save
from apps.automation import demo as automation_demo
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from apps.conversations.models import Conversation, Message, Tag
from apps.customers.models import Identity
from apps.customers.services import StrongLink, identity_resolve
from apps.listening.services import messages_apply_listening
from apps.routing import demo as routing_demo

from . import phrases

# Share of inbound messages per language: the demo brands sell worldwide.
LANGUAGE_WEIGHTS = {"en": 32, "es": 14, "ar": 10, "id": 10, "ru": 8, "zh": 8, "fr": 6, "de": 6, "pt": 6}
INTENT_WEIGHTS = {
    "question": 26,
    "complaint": 22,
    "praise": 18,
    "purchase_intent": 10,
    "feature_request": 7,
    "churn_risk": 5,
    "spam": 6,
    "other": 6,
}
# Where people write: public networks carry most of the volume, private channels the service work.
CHANNEL_WEIGHTS = {
    ChannelKind.X: 18,
    ChannelKind.INSTAGRAM: 10,
    ChannelKind.EMAIL: 12,
    ChannelKind.WHATSAPP: 10,
    ChannelKind.SMS_TWILIO: 2,
    ChannelKind.SMS_VONAGE: 1,
    ChannelKind.MESSENGER: 7,
    ChannelKind.LIVECHAT: 8,
    ChannelKind.TELEGRAM: 4,
    ChannelKind.REDDIT: 5,
    ChannelKind.MASTODON: 3,
    ChannelKind.BLUESKY: 4,
    ChannelKind.REVIEWS: 3,
    ChannelKind.GOOGLE_BUSINESS: 2,
    ChannelKind.APP_STORE: 1,
    ChannelKind.GOOGLE_PLAY: 1,
    ChannelKind.TRUSTPILOT: 1,
    ChannelKind.FORUM: 3,
    ChannelKind.FEED: 3,
    ChannelKind.WEBHOOK: 3,
    ChannelKind.IMPORT: 3,
    ChannelKind.LINE: 2,
    ChannelKind.YOUTUBE: 3,
}
PUBLIC_KINDS = {
    ChannelKind.X,
    ChannelKind.INSTAGRAM,
    ChannelKind.REDDIT,
    ChannelKind.MASTODON,
    ChannelKind.BLUESKY,
    ChannelKind.REVIEWS,
    ChannelKind.GOOGLE_BUSINESS,
    ChannelKind.APP_STORE,
    ChannelKind.GOOGLE_PLAY,
    ChannelKind.TRUSTPILOT,
    ChannelKind.FORUM,
    ChannelKind.FEED,
    ChannelKind.YOUTUBE,
}
# Review sites: one review a conversation, with its stars (metadata "rating", as the review connectors keep).
REVIEW_KINDS = {
    ChannelKind.REVIEWS,
    ChannelKind.GOOGLE_BUSINESS,
    ChannelKind.APP_STORE,
    ChannelKind.GOOGLE_PLAY,
    ChannelKind.TRUSTPILOT,
}
STARS_BY_INTENT = {"praise": (4, 5), "complaint": (1, 2), "churn_risk": (1, 2), "feature_request": (3, 4)}

BRANDS = [
    {
        "name": "Nimbus Mobile",
        "handles": ["@nimbusmobile", "care@nimbus-mobile.example"],
        "keywords": ["Nimbus", "Nimbus Mobile", "Nimbus X2", "Nimbus Unlimited"],
        "competitors": ["Stratus Telecom", "Cirrus Wireless"],
        "category_terms": ["phone plan", "5G", "roaming", "SIM card", "mobile data"],
        "products": ["Nimbus X2", "Nimbus Unlimited plan", "Nimbus eSIM", "Nimbus Home 5G router"],
    },
    {
        "name": "Brewly Coffee",
        "handles": ["@brewly", "hello@brewly.example"],
        "keywords": ["Brewly", "Brewly Coffee", "Brewly One"],
        "competitors": ["BeanBox", "Roastery & Co"],
        "category_terms": ["coffee subscription", "espresso", "coffee beans"],
        "products": ["Brewly One machine", "Morning Blend beans", "Brewly subscription box", "Cold Brew kit"],
    },
    {
        "name": "Voltride",
        "handles": ["@voltride", "support@voltride.example"],
        "keywords": ["Voltride", "Voltride City", "Voltride Trail"],
        "competitors": ["Zoomwheel", "Pedalo Electric"],
        "category_terms": ["e-bike", "electric bike", "battery range"],
        "products": ["Voltride City", "Voltride Trail", "Voltride battery pack", "Voltride app"],
    },
]


CRM_SHARE = 0.45
PLANS = ["free", "basic", "plus", "premium", "business"]
COUNTRIES = {
    "en": "US",
    "es": "ES",
    "ar": "AE",
    "id": "ID",
    "ru": "KZ",
    "zh": "SG",
    "fr": "FR",
    "de": "DE",
    "pt": "BR",
}


def _link_crm_record(rng: random.Random, organization, index: int, person: dict) -> None:
    """An imported CRM record names the person's accounts: an explicit link, so one profile holds them all."""
    crm = identity_resolve(
        organization=organization,
        kind="crm",
        external_id=f"CRM-{100000 + index}",
        display_name=phrases.full_name(person["language"], person["first"], person["last"]),
        email=person["email"],
        email_verified=True,
        links=[
            StrongLink(identity.kind, identity.external_id, "linked in the CRM record")
            for identity in person["identities"].values()
        ],
    )
    customer = crm.customer
    customer.attributes = {
        "plan": rng.choice(PLANS),
        "country": COUNTRIES[person["language"]],
        "customer_since": str(2015 + rng.randrange(11)),
        "crm_id": crm.external_id,
    }
    customer.lifetime_value = round(rng.lognormvariate(5, 1.1), 2)
    customer.save(update_fields=["attributes", "lifetime_value", "updated_at"])


@dataclass
class DemoResult:
    credentials: list[tuple[str, str, str]]
    messages: int
    customers: int


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _channels_of_a_person(rng: random.Random) -> list[str]:
    """One to three channels, the popular ones more often."""
    wanted = rng.choice([1, 1, 2, 2, 3])
    kinds: list[str] = []
    while len(kinds) < wanted:
        kind = _weighted(rng, CHANNEL_WEIGHTS)
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def _sent_at(rng: random.Random, now, days: int):
    """A time in the last `days`, busier on weekdays and in daytime, with a slow upward trend."""
    while True:
        offset = rng.random() * days
        moment = now - timedelta(days=offset)
        hour_weight = 0.35 + 0.65 * math.sin(math.pi * max(0, moment.hour - 6) / 18) ** 2
        weekday_weight = 1.0 if moment.weekday() < 5 else 0.7
        trend = 0.75 + 0.25 * (1 - offset / days)
        if rng.random() < hour_weight * weekday_weight * trend:
            return moment


def _channel_settings(kind: str) -> dict:
    return {"demo": True, "kind": kind}


def _create_channels(organization, brands) -> dict[int, dict[str, Channel]]:
    channels: dict[int, dict[str, Channel]] = {}
    for brand in brands:
        channels[brand.pk] = {}
        for kind in ChannelKind:
            channels[brand.pk][kind] = Channel.objects.create(
                organization=organization,
                brand=brand,
                kind=kind,
                name=f"{brand.name} · {kind.label}",
                credentials={"token": secrets.token_urlsafe(24)},
                settings=_channel_settings(kind),
                # Demo channels hold made-up data and no real accounts: nothing to poll or send to.
                status=Channel.Status.PAUSED,
            )
    return channels


def _demo_password() -> str:
    return secrets.token_urlsafe(9)


def _make_people(organization, brands, password_for) -> tuple[list, list[tuple[str, str, str]]]:
    people = [
        ("admin", Role.ADMIN, "Ada", "Admin", []),
        ("agent", Role.COMMUNITY_MANAGER, "Carmen", "Ruiz", []),
        ("agent.nimbus", Role.COMMUNITY_MANAGER, "Yusuf", "Rahman", [brands[0]]),
        ("marketer", Role.MARKETER, "Mei", "Lin", []),
    ]
    credentials, agents = [], []
    for username, role, first, last, limited_to in people:
        password = password_for(username)
        membership = member_add(
            organization=organization,
            username=username,
            role=role,
            password=password,
            email=f"{username}@acme.example",
            first_name=first,
            last_name=last,
            brands=limited_to,
        )
        credentials.append(
            (
                username,
                password,
                f"{membership.get_role_display()} at {organization.name}"
                + (f" (only {limited_to[0].name})" if limited_to else ""),
            )
        )
        if role in (Role.ADMIN, Role.COMMUNITY_MANAGER):
            agents.append(membership.user)
    team_create(organization=organization, name="Care", members=agents[1:])
    team_create(organization=organization, name="Social", members=agents[:2])
    return agents, credentials


def _identity_for(rng, organization, kind, language, index, person) -> object:
    first, last = person["first"], person["last"]
    handle = f"{slugify(f'{first}{last}').replace('-', '') or 'fan'}{index}"
    email = person["email"]
    common = {"organization": organization, "display_name": phrases.full_name(language, first, last)}
    if kind == ChannelKind.EMAIL:
        return identity_resolve(kind=kind, external_id=email, email=email, email_verified=True, **common)
    if kind in (ChannelKind.WHATSAPP, ChannelKind.SMS_TWILIO, ChannelKind.SMS_VONAGE):
        # The same verified number joins a person's SMS and WhatsApp profiles (SMS identities are E.164).
        return identity_resolve(
            kind=kind,
            external_id=person["phone"].lstrip("+") if kind == ChannelKind.WHATSAPP else person["phone"],
            phone=person["phone"],
            phone_verified=True,
            **common,
        )
    if kind == ChannelKind.LIVECHAT:
        # Logged-in visitors of the brand's site carry their site account: strong evidence.
        links = (
            [StrongLink("website", person["site_id"], "logged in on the brand's website")]
            if person["logged_in"]
            else []
        )
        if person["logged_in"]:
            identity_resolve(
                kind="website", external_id=person["site_id"], email=email, email_verified=True, **common
            )
        return identity_resolve(
            kind=kind, external_id=f"visitor-{index}-{rng.randrange(10**6)}", links=links, **common
        )
    followers = int(rng.paretovariate(1.1) * 40)
    return identity_resolve(
        kind=kind,
        external_id=f"{kind}-{index}",
        handle=f"@{handle}",
        profile_url=f"https://{kind}.example/{handle}",
        followers=min(followers, 2_000_000),
        verified=followers > 50_000,
        **common,
    )


# The demo's organisations (generate_demo creates them).
DEMO_SLUGS = ("acme", "globex")


@transaction.atomic
def generate_demo(*, messages: int = 6000, days: int = 90, seed: int = 7, password_for=None) -> DemoResult:
    rng = random.Random(seed)
    password_for = password_for or (lambda username: _demo_password())
    now = timezone.now()

    organization = organization_create(name="Acme Demo", slug="acme")
    brands = [
        brand_create(organization=organization, **{k: v for k, v in spec.items() if k != "products"})
        for spec in BRANDS
    ]
    products = {brand.pk: spec["products"] for brand, spec in zip(brands, BRANDS, strict=True)}
    channels = _create_channels(organization, brands)
    agents, credentials = _make_people(organization, brands, password_for)
    tags = [
        Tag.objects.create(organization=organization, name=name)
        for name in ("billing", "delivery", "outage", "vip", "refund", "bug", "lead")
    ]

    # A second tenant, so that isolation can be seen (its admin sees none of Acme's data).
    globex = organization_create(name="Globex Demo", slug="globex")
    globex_brand = brand_create(
        organization=globex, name="Globex Energy", keywords=["Globex"], competitors=["Initech Power"]
    )
    Channel.objects.create(
        organization=globex,
        brand=globex_brand,
        kind=ChannelKind.EMAIL,
        name="Globex support",
        status=Channel.Status.PAUSED,
    )
    password = password_for("globex.admin")
    member_add(
        organization=globex,
        username="globex.admin",
        role=Role.ADMIN,
        password=password,
        first_name="Gil",
        last_name="Obex",
    )
    credentials.append(("globex.admin", password, "Admin at Globex Demo (another tenant)"))

    # People: each speaks one language and uses one to three channels.
    people_count = max(60, messages // 5)
    people = []
    for index in tqdm(range(people_count), desc="customers", unit="person", disable=settings.TESTING):
        language = _weighted(rng, LANGUAGE_WEIGHTS)
        first, last = phrases.pick_name(rng, language)
        person = {
            "language": language,
            "first": first,
            "last": last,
            "email": f"customer{index}@mail.example",
            "phone": f"+1555{index:07d}",
            "site_id": f"site-user-{index}",
            "logged_in": rng.random() < 0.6,
            "kinds": _channels_of_a_person(rng),
        }
        person["identities"] = {
            kind: _identity_for(rng, organization, kind, language, index, person) for kind in person["kinds"]
        }
        if rng.random() < CRM_SHARE:
            _link_crm_record(rng, organization, index, person)
        people.append(person)
    # Strong evidence may have joined profiles while people were made: read each identity's final profile.
    holders = dict(Identity.objects.filter(organization=organization).values_list("pk", "customer_id"))
    for person in people:
        for identity in person["identities"].values():
            identity.customer_id = holders[identity.pk]

    # A few people use the same handle on two networks: weak evidence, suggested to agents, not merged.
    for index, person in enumerate(people[:15]):
        handle = f"@{slugify(person['first'] + person['last']).replace('-', '') or 'fan'}twin{index}"
        for kind in (ChannelKind.X, ChannelKind.INSTAGRAM):
            identity_resolve(
                organization=organization,
                kind=kind,
                external_id=f"{kind}-twin-{index}",
                handle=handle,
                display_name=f"{person['first']} {person['last']}",
            )

    written = 0
    progress = tqdm(total=messages, desc="messages", unit="msg", disable=settings.TESTING)
    while written < messages:
        person = rng.choice(people)
        kind = rng.choice(person["kinds"])
        identity = person["identities"][kind]
        brand = rng.choice(brands)
        channel = channels[brand.pk][kind]
        language = person["language"]
        intent = _weighted(rng, INTENT_WEIGHTS)
        slots = {
            "brand": brand.name,
            "handle": brand.handles[0],
            "product": rng.choice(products[brand.pk]),
            "competitor": rng.choice(brand.competitors),
            "days": str(rng.randint(2, 14)),
            "order": f"A-{rng.randint(10000, 99999)}",
        }
        started = _sent_at(rng, now, days)
        turns = 1 if kind in REVIEW_KINDS else rng.choice([1, 1, 1, 2, 2, 3, 4])
        # The agents answer by a policy of their own (what the triage learns from): most questions and
        # complaints, some praise (the first brand thanks its fans), never spam; private channels nearly all.
        replied = rng.random() < _reply_chance(intent, kind, brand is brands[0])
        closed = (replied or intent == "spam" or rng.random() < 0.6) and rng.random() < 0.55
        closed = closed and started < now - timedelta(days=1)
        first_text = phrases.compose(rng, language, intent, **slots)
        conversation = Conversation(
            organization=organization,
            brand=brand,
            channel=channel,
            customer_id=identity.customer_id,
            external_thread_id=f"demo-{written}",
            subject=(
                phrases.compose_subject(rng, language, **slots)
                if kind == ChannelKind.EMAIL
                else first_text[:120]
            ),
            status=Conversation.Status.CLOSED
            if closed
            else rng.choice([Conversation.Status.OPEN] * 4 + [Conversation.Status.PENDING]),
            priority=round(rng.random() * 60 + (30 if intent in ("complaint", "churn_risk") else 0), 1),
            assignee=rng.choice([None, None, *agents]) if not closed else rng.choice(agents),
            sla_due_at=started + timedelta(hours=4 if kind not in PUBLIC_KINDS else 24),
        )
        conversation.save()
        if intent in ("complaint", "churn_risk") and rng.random() < 0.3:
            conversation.tags.add(rng.choice(tags))
        thread = []
        moment = started
        for turn in range(turns):
            text = (
                first_text
                if turn == 0
                else phrases.compose(
                    rng, language, rng.choice(["question", "complaint", "praise", "other"]), **slots
                )
            )
            thread.append(
                Message(
                    organization=organization,
                    conversation=conversation,
                    channel=channel,
                    direction=Message.Direction.INBOUND,
                    external_id=f"demo-{conversation.pk}-{turn}-in",
                    text=text,
                    language=language,
                    author_identity=identity,
                    sent_at=moment,
                    metadata={"demo_intent": intent if turn == 0 else None}
                    | (
                        {"rating": {"value": rng.choice(STARS_BY_INTENT.get(intent, (3, 4, 5))), "best": 5.0}}
                        if kind in REVIEW_KINDS
                        else {}
                    ),
                )
            )
            if replied and (turn < turns - 1 or closed):
                moment += timedelta(minutes=rng.randint(3, 600))
                reply = phrases.compose_reply(rng, language, first_name=person["first"], brand=brand.name)
                thread.append(
                    Message(
                        organization=organization,
                        conversation=conversation,
                        channel=channel,
                        direction=Message.Direction.OUTBOUND,
                        external_id=f"demo-{conversation.pk}-{turn}-out",
                        text=reply,
                        language=language,
                        author_user=conversation.assignee,
                        sent_at=moment,
                        delivery_status=Message.Delivery.DELIVERED,
                    )
                )
            moment += timedelta(minutes=rng.randint(5, 900))
        inbound = sum(1 for m in thread if m.direction == Message.Direction.INBOUND)
        Message.objects.bulk_create(thread)
        for m in thread:
            m.channel = channel  # listening reads the kind: no query per message
        messages_apply_listening(thread)
        written += inbound
        progress.update(inbound)
    progress.close()

    # Counters and response times follow from the messages, computed once in SQL.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE conversations_conversation c SET
                message_count = s.n, last_message_at = s.last_at, first_response_at = s.first_out,
                created_at = s.first_at,
                resolved_at = CASE WHEN c.status = 'closed' THEN s.last_at END
            FROM (SELECT conversation_id, count(*) n, max(sent_at) last_at, min(sent_at) first_at,
                         min(sent_at) FILTER (WHERE direction = 'outbound') first_out
                  FROM conversations_message GROUP BY conversation_id) s
            WHERE s.conversation_id = c.id AND c.organization_id = %s
            """,
            [organization.pk],
        )
    # Each brand watches its volume and its share of negative messages (the beat evaluates the rules).
    for brand in brands:
        for kind in (AlertRule.Kind.VOLUME_ANOMALY, AlertRule.Kind.NEGATIVE_SHARE_ANOMALY):
            rule = AlertRule(
                organization=organization, brand=brand, kind=kind, name=f"{brand.name}: {kind.label}"
            )
            alert_rule_save(rule=rule, actor=None)
    _shelf_create(organization, brands, seed=seed)
    routing_demo.routing_demo_create(organization=organization, brands=brands, now=now)
    automation_demo.automation_demo_create(organization=organization, brands=brands, now=now, seed=seed)
    customers = len({p["identities"][k].customer_id for p in people for k in p["kinds"]})
    return DemoResult(credentials=credentials, messages=written, customers=customers)


#: The demo's saved replies: the agents' replies of phrases.AGENT_REPLIES (same order in every language), each
#: with the intent it answers, a title and a folder.
SAVED_REPLIES = [
    ("complaint", "Ask for the order number", "Complaints"),
    ("complaint", "Escalated to a specialist", "Complaints"),
    ("praise", "Thanks for the kind words", "Praise"),
    ("question", "Details sent privately", "Questions"),
    ("other", "Request received", "General"),
    ("churn_risk", "Offer a call to stay", "Retention"),
    ("feature_request", "Suggestion passed on", "Product feedback"),
]
_SHORT_TO_LONG = {"{first_name}": "{{customer.first_name}}", "{brand}": "{{brand.name}}"}


def _shelf_create(organization, brands, *, seed: int) -> None:
    """Saved replies and macros for each brand in each language of the demo, used a few times already (from
    a random generator of their own, so that the rest of the demo stays as it was)."""
    from apps.replies.models import Macro, SavedReply, Scope

    rng = random.Random(seed + 1)
    replies, macros = [], []
    for brand in brands:
        for language in phrases.LANGUAGES:
            for index, (intent, title, folder) in enumerate(SAVED_REPLIES):
                body = phrases.AGENT_REPLIES[language][index]
                for short, long in _SHORT_TO_LONG.items():
                    body = body.replace(short, long)
                replies.append(
                    SavedReply(
                        organization=organization,
                        scope=Scope.BRAND,
                        brand=brand,
                        folder=folder,
                        title=f"{title} ({language})",
                        body=body,
                        language=language,
                        intent=intent,
                        usage_count=rng.randint(0, 40) * (3 if language == "en" else 1),
                    )
                )
    SavedReply.objects.bulk_create(replies)
    escalations = {(r.brand_id, r.language): r for r in replies if r.title.startswith("Escalated")}
    for brand in brands:
        for language in phrases.LANGUAGES:
            actions = [
                {"type": "saved_reply", "saved_reply": escalations[(brand.pk, language)].pk},
                {"type": "tag", "tag": "escalated"},
                {"type": "priority", "priority": 70.0},
                {"type": "status", "status": "pending"},
                {"type": "note", "text": "Escalated to a specialist; the customer was told within 24 h."},
            ]
            macros.append(
                Macro(
                    name=f"Escalate ({language})",
                    folder="Complaints",
                    actions=actions,
                    usage_count=rng.randint(0, 9),
                )
            )
        macros.append(
            Macro(
                name="Close as spam",
                folder="Triage",
                actions=[{"type": "tag", "tag": "spam"}, {"type": "status", "status": "closed"}],
                usage_count=rng.randint(0, 30),
            )
        )
        macros.append(
            Macro(
                name="Waiting for the customer: snooze a day",
                folder="Triage",
                actions=[
                    {"type": "snooze", "hours": 24},
                    {"type": "note", "text": "Asked {{customer.first_name}} for details; back tomorrow."},
                ],
                usage_count=rng.randint(0, 30),
            )
        )
        for macro in macros[-len(phrases.LANGUAGES) - 2 :]:
            macro.organization, macro.scope, macro.brand = organization, Scope.BRAND, brand
    Macro.objects.bulk_create(macros)


def _reply_chance(intent: str, kind: str, thanks_fans: bool) -> float:
    """How likely the demo's agents answer a conversation that starts with this intent on this channel."""
    if intent == "spam":
        return 0.0
    if kind not in PUBLIC_KINDS:
        return 0.5 if intent in ("praise", "other") else 0.95
    chances = {"complaint": 0.85, "churn_risk": 0.9, "question": 0.8, "purchase_intent": 0.7}
    if intent == "praise":
        return 0.8 if thanks_fans else 0.1
    return chances.get(intent, 0.2)


def demo_classify(*, processes: int = 1, progress=None) -> int:
    """Classify the demo's inbound messages here and now, in the classifier's batches (spread over
    `processes` processes: the machine's cores, idle while the demo is made), then teach suggested replies
    from its resolved conversations and build the dashboards' rollups: the demo is complete when `dev.py run`
    prints its URL, instead of leaving minutes of work to the workers (which would also hold back live
    messages). `progress(done, total)` after each batch. Returns how many messages were classified."""
    from apps.analytics.services import rollups_refresh
    from apps.classification.services import BATCH
    from apps.replies.services import resolution_examples_record

    organizations = Organization.objects.filter(slug__in=DEMO_SLUGS)
    waiting = list(
        Message.objects.filter(
            organization__in=organizations, direction=Message.Direction.INBOUND, classified_at__isnull=True
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    batches = [waiting[start : start + BATCH] for start in range(0, len(waiting), BATCH)]
    done = 0
    for classified in _classified(batches, processes):
        done += classified
        if progress:
            progress(done, len(waiting))
    closed = list(
        Conversation.objects.filter(
            organization__in=organizations, status=Conversation.Status.CLOSED
        ).values_list("pk", flat=True)
    )
    for start in range(0, len(closed), 200):
        resolution_examples_record(conversation_ids=closed[start : start + 200])
    rollups_refresh()
    return done


def _classified(batches: list[list[int]], processes: int):
    """How many messages of each batch were classified, as the batches are done: here, or in `processes`
    fresh processes (spawned, not forked: the classifier's libraries keep thread pools that a forked child
    cannot use), which see only committed rows."""
    from apps.classification.services import messages_classify

    if processes <= 1 or len(batches) <= 1:
        for batch in batches:
            yield messages_classify(message_ids=batch)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from . import processes as demo_processes

    with ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=demo_processes.start,
        initargs=(connection.settings_dict["NAME"],),
    ) as pool:
        for future in as_completed([pool.submit(demo_processes.classify, batch) for batch in batches]):
            yield future.result()


def demo_exists() -> bool:
    return Organization.objects.filter(slug="acme").exists()
