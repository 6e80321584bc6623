"""Emerging terms: a term that spikes today against its own previous days shows on the dashboard's trends
panel and raises a trend alert; a term as common today as every day does neither. Messages arrive through
the real pipeline (a signed webhook, a real Celery worker that classifies and refreshes the rollups), and
the alert rule is evaluated by the beat's task on that worker. Stop words of the product's languages stay
out of the terms."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.alerts.models import Alert, AlertRule
from apps.alerts.services import alert_rule_save
from apps.alerts.tasks import evaluate_alert_rules_task
from apps.analytics import selectors
from apps.analytics.models import DirtyBucket, TermDaily
from apps.analytics.services import rollups_recompute
from apps.analytics.terms import STOP_WORDS, message_phrases, message_terms
from apps.analytics.trends import emerging, trend_score
from apps.conversations.models import Message
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory, membership_create
from tests.ingestion.conftest import message

SPIKE = "My battery drains overnight since the update, battery drains in two hours"
COMMON = "Where is my order? The order tracking page says nothing"


def _wait_for(predicate, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


def _evaluated_by_the_worker(rule) -> None:
    before = AlertRule.objects.get(pk=rule.pk).last_evaluated_at
    evaluate_alert_rules_task.delay()
    evaluated = lambda: AlertRule.objects.get(pk=rule.pk).last_evaluated_at  # noqa: E731
    _wait_for(lambda: evaluated() not in (None, before), "rule not evaluated")


def _seeded_traffic(today: datetime, step: timedelta) -> list[dict]:
    """Ten quiet days of "order" messages (3 a day), then today: 3 more of them and 12 battery complaints,
    `step` apart."""
    messages, n = [], 0
    for back in range(10, -1, -1):
        day = today - timedelta(days=back)
        for minute in range(3):
            messages.append(message(n, text=COMMON, sent_at=(day + step * minute).isoformat()))
            n += 1
    for minute in range(12):
        sent = today + step * (10 + minute)
        messages.append(message(n, text=f"{SPIKE} #batterygate", sent_at=sent.isoformat()))
        n += 1
    return messages


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_seeded_spike_shows_on_the_trends_panel_and_raises_a_trend_alert(
    webhook_channel, post_signed, celery_worker, brand_a, org_a, login
):
    # Today's messages: the last half hour, or what there is of today in the first half hour after midnight
    # (the worker evaluates at its own now: today's messages must be in the same UTC day, and none ahead).
    now = timezone.now().astimezone(UTC)
    span = min(timedelta(minutes=30), now - now.replace(hour=0, minute=0, second=0, microsecond=0))
    today = now - span
    body = {"messages": _seeded_traffic(today, step=span / 30)}
    assert post_signed(webhook_channel, body).status_code == 200
    count = len(body["messages"])
    _wait_for(lambda: Message.objects.filter(classified_at__isnull=False).count() == count, "not classified")
    _wait_for(lambda: not DirtyBucket.objects.exists(), "rollups not refreshed by the worker")
    day = today.astimezone(UTC).date()
    assert TermDaily.objects.filter(brand=brand_a, day=day, term="battery drains").exists()

    admin = membership_create(org_a, role=Role.ADMIN)
    rule = alert_rule_save(
        rule=AlertRule(
            organization=org_a,
            brand=brand_a,
            name="Emerging terms",
            kind=AlertRule.Kind.TERM_TREND,
            sensitivity=3,
            min_volume=5,
        ),
        actor=admin.user,
    )
    # The beat's task, run by the worker (as every 5 minutes in production; it keeps no result to wait on).
    _evaluated_by_the_worker(rule)
    alerts = list(Alert.objects.filter(rule=rule))
    subjects = {alert.subject for alert in alerts}
    assert alerts and all(
        subject.endswith(" · en") and subject.removesuffix(" · en") in f"{SPIKE.lower()} #batterygate"
        for subject in subjects
    ), subjects
    assert not any("order" in subject or "tracking" in subject for subject in subjects)
    top = alerts[0] if len(alerts) == 1 else max(alerts, key=lambda alert: alert.score)
    assert top.kind == "term_trend" and top.observed == 12 and top.expected == 0
    samples = Message.objects.filter(pk__in=top.sample_message_ids)
    assert samples and all("battery" in sample.text.lower() for sample in samples)
    # Evaluating again in the same spike updates the alerts instead of raising new ones.
    _evaluated_by_the_worker(rule)
    assert Alert.objects.filter(rule=rule).count() == len(alerts)

    client = login(admin)
    detail = client.get(reverse("alerts:detail", args=[top.pk])).content.decode()
    assert f"“{top.subject}” in 12 messages today, usually 0.0 a day" in detail
    rules = client.get(reverse("alerts:rules")).content.decode()
    assert "Emerging term, phrase or hashtag: score ≥ 3" in rules and "the day (UTC)" in rules
    params = {"brand": brand_a.pk, "from": (day - timedelta(days=6)).isoformat(), "to": day.isoformat()}
    page = client.get(reverse("analytics:dashboard"), params).content.decode()
    assert f'hx-get="{reverse("analytics:panel", args=["trends"])}?' in page
    panel = client.get(reverse("analytics:panel", args=["trends"]), params).content.decode()
    assert "<html" not in panel and 'id="table-trends"' in panel
    assert ">battery drains</a>" in panel and ">#batterygate</a>" in panel and ">battery</a>" in panel
    assert ">order</a>" not in panel and ">tracking</a>" not in panel
    # The drill-down opens the search on that day's messages holding the term.
    link = panel.split(">battery</a>")[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    results = re.sub(r"<[^>]+>", "", client.get(link).content.decode()).lower()
    assert "battery drains overnight" in results and "where is my order" not in results


def test_a_term_as_common_as_usual_never_emerges_and_a_new_one_needs_volume():
    rows = [
        ("en", "order", 30, 14 * 30),  # every day the same: ratio 1
        ("en", "battery", 12, 0),  # new and frequent
        ("en", "typo", 2, 0),  # new but rare
        ("es", "pedido", 40, 14 * 25),  # somewhat up (×1.6): not a trend
    ]
    found = emerging(rows, baseline_days=14)
    assert [(trend.language, trend.term) for trend in found] == [("en", "battery")]
    usual, ratio, score = trend_score(12, 0, 14)
    assert usual == 0 and ratio == 13 and score == 12
    assert emerging(rows, baseline_days=2) == []  # too little history says nothing


def test_phrases_are_adjacent_words_that_are_terms():
    assert message_phrases("The battery drains fast, #sad @support") == {"battery drains", "drains fast"}
    assert ("battery drains", False) not in message_terms("The battery drains")


@pytest.mark.django_db
def test_stop_words_of_every_product_language_stay_out_of_the_top_terms(brand_a, org_a):
    texts = {
        "id": "Dan ini produk yang sangat bagus dan pengiriman cepat",
        "cs": "Co to je za aplikace, co se děje s objednávkou",
        "pl": "Co się dzieje z zamówieniem, nie mogę się zalogować",
        "ru": "Это не работает и приложение снова не открывается",
        "en": "The app is not working and the refund is late",
        "es": "El pedido no llega y la aplicación no funciona",
        "de": "Die App ist nicht gut und die Lieferung ist spät",
        "fr": "La livraison est en retard et le service ne répond pas",
        "pt": "O pedido não chegou e o aplicativo não abre",
        "ar": "التطبيق لا يعمل و هذا في الطلب",
    }
    conversation = ConversationFactory(channel=ChannelFactory(brand=brand_a))
    for language, text in texts.items():
        for _ in range(2):
            MessageFactory(conversation=conversation, text=text, language=language)
    today = timezone.now().date()
    rollups_recompute(organization_id=org_a.pk, brand_ids=[brand_a.pk], first_day=today, last_day=today)
    member = membership_create(org_a, role=Role.ADMIN)
    filters = selectors.Filters(brand_id=brand_a.pk, since=today, until=today)
    terms = {term for term, _ in selectors.top_terms(membership=member, filters=filters, limit=None)}
    noises = {"dan", "ini", "yang", "co", "to", "se", "się", "это", "не", "the", "is", "el", "la", "die"}
    for noise in noises:
        assert noise in STOP_WORDS and noise not in terms, noise
    assert "في" not in terms and "هذا" not in terms
    for meaningful in ("produk", "objednávkou", "zamówieniem", "приложение", "refund", "pedido", "lieferung"):
        assert meaningful in terms, meaningful
    assert not any(" " in term for term in terms)  # phrases are the trends', not the top terms'
    # The rollup's phrases are message_phrases(), the rule in Python: counted once per message.
    phrases = dict(
        TermDaily.objects.filter(brand=brand_a, day=today, term__contains=" ").values_list("term", "messages")
    )
    assert phrases == {phrase: 2 for text in texts.values() for phrase in message_phrases(text)}
    assert "pengiriman cepat" in phrases and "produk yang" not in phrases
