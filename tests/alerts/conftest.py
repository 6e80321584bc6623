from datetime import UTC, datetime, timedelta

import pytest

from apps.accounts.models import Role
from apps.alerts.detection import HOUR, WEEK, hour_start
from apps.alerts.models import AlertRule
from apps.alerts.services import alert_rule_save
from apps.conversations.models import Message
from tests.connectors.livechat.test_widget_browser import asgi_server, page  # noqa: F401 (fixtures shared here)
from tests.factories import ChannelFactory, ConversationFactory, membership_create

# A Wednesday afternoon, 50 minutes into the hour: what "now" is for the evaluations of these tests.
NOW = datetime(2026, 11, 18, 14, 50, tzinfo=UTC)


class BrandTraffic:
    """Writes a brand's inbound messages in bulk: weeks of steady history, then bursts."""

    def __init__(self, brand):
        self.brand = brand
        channel = ChannelFactory(brand=brand)
        self.conversations = [ConversationFactory(channel=channel) for _ in range(5)]

    def add(
        self, moments, *, negative: int = 0, text: str = "Where is my order?", priority: float | None = None
    ):
        """One inbound message at each moment; the first `negative` of them are negative."""
        messages = [
            Message(
                organization_id=self.brand.organization_id,
                conversation=self.conversations[index % len(self.conversations)],
                channel_id=self.conversations[0].channel_id,
                direction=Message.Direction.INBOUND,
                text=f"{text} #{index}",
                sent_at=moment,
                sentiment="negative" if index < negative else "neutral",
                priority=priority,
            )
            for index, moment in enumerate(moments)
        ]
        return Message.objects.bulk_create(messages)

    def steady(self, *, until=NOW, weeks: int = 8, per_hour: int = 3, negative_per_hour: int = 0):
        """`per_hour` messages in every hour of the `weeks` before `until`'s hour."""
        moments, negatives = [], []
        hour = hour_start(until) - WEEK * weeks
        while hour < hour_start(until):
            for n in range(per_hour):
                (negatives if n < negative_per_hour else moments).append(hour + timedelta(minutes=5 + 15 * n))
            hour += HOUR
        self.add(negatives, negative=len(negatives))
        self.add(moments)

    def burst(
        self, *, start, end, count: int, negative: int = 0, text: str = "The app is down!", priority=None
    ):
        step = (end - start) / count
        return self.add(
            [start + step * n for n in range(count)], negative=negative, text=text, priority=priority
        )


@pytest.fixture
def traffic(brand_a):
    return BrandTraffic(brand_a)


@pytest.fixture
def admin_a(org_a):
    return membership_create(org_a, role=Role.ADMIN)


@pytest.fixture
def make_rule(brand_a, admin_a):
    def _make(kind=AlertRule.Kind.VOLUME_ANOMALY, brand=None, **fields):
        brand = brand or brand_a
        fields.setdefault("name", f"{kind} rule")
        rule = AlertRule(organization=brand.organization, brand=brand, kind=kind, **fields)
        return alert_rule_save(rule=rule, actor=admin_a.user)

    return _make
