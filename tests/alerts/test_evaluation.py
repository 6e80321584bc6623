"""Rules evaluated against a brand's messages: an injected spike raises exactly one alert, however often the
evaluation runs and while the spike goes on; negative-share spikes and thresholds likewise; in-app
notifications reach the brand's people."""

from datetime import timedelta

import pytest

from apps.accounts.models import Role
from apps.alerts.models import Alert, AlertRule
from apps.alerts.services import alert_rule_evaluate, alert_rules_evaluate
from apps.notifications.models import Notification
from tests.factories import BrandFactory, membership_create

from .conftest import NOW

pytestmark = pytest.mark.django_db

HOUR_START = NOW.replace(minute=0)


def test_an_injected_spike_raises_exactly_one_alert(traffic, make_rule):
    rule = make_rule()
    traffic.steady(per_hour=3)
    spike = traffic.burst(start=HOUR_START, end=NOW, count=40, priority=80)

    raised = [alert_rules_evaluate(now=NOW + timedelta(minutes=m)) for m in (0, 0, 1, 5)]

    alert = Alert.objects.get()
    assert raised == [1, 0, 0, 0]
    assert (alert.rule, alert.brand, alert.kind, alert.status) == (rule, rule.brand, rule.kind, "open")
    assert alert.observed == 40 and alert.expected == pytest.approx(3 * 50 / 60, rel=0.2)
    assert alert.score >= rule.sensitivity and alert.volume == 40
    assert (alert.window_start, alert.window_end) == (HOUR_START, NOW + timedelta(minutes=5))
    assert set(alert.sample_message_ids) <= {m.pk for m in spike} and len(alert.sample_message_ids) == 10


def test_a_spike_that_goes_on_into_the_next_hour_updates_its_alert(traffic, make_rule):
    make_rule()
    traffic.steady(per_hour=3)
    traffic.burst(start=HOUR_START, end=NOW, count=40)
    alert_rules_evaluate(now=NOW)
    next_hour = HOUR_START + timedelta(hours=1)
    traffic.burst(start=next_hour, end=next_hour + timedelta(minutes=20), count=45)

    raised = [alert_rules_evaluate(now=next_hour + timedelta(minutes=m)) for m in (10, 20, 25)]

    alert = Alert.objects.get()
    assert raised == [0, 0, 0]
    assert alert.peak_observed == 45 and alert.window_end == next_hour + timedelta(minutes=25)
    assert alert.last_seen_at == next_hour + timedelta(minutes=25)


def test_a_new_spike_after_the_cool_down_is_a_new_alert(traffic, make_rule):
    make_rule(cooldown_hours=6)
    traffic.steady(per_hour=3)
    traffic.burst(start=HOUR_START, end=NOW, count=40)
    alert_rules_evaluate(now=NOW)
    later = HOUR_START + timedelta(hours=8)
    traffic.burst(start=later, end=later + timedelta(minutes=50), count=40)

    assert alert_rules_evaluate(now=later + timedelta(minutes=50)) == 1
    assert Alert.objects.count() == 2


def test_steady_traffic_raises_nothing(traffic, make_rule):
    make_rule()
    traffic.steady(per_hour=3)
    traffic.add([HOUR_START + timedelta(minutes=m) for m in (5, 20, 35, 45)])

    assert sum(alert_rules_evaluate(now=NOW + timedelta(minutes=m)) for m in (0, 5, 9)) == 0
    assert not Alert.objects.exists()


def test_a_burst_below_the_minimum_volume_raises_nothing(traffic, make_rule):
    make_rule(min_volume=50)
    traffic.steady(per_hour=3)
    traffic.burst(start=HOUR_START, end=NOW, count=40)

    assert alert_rules_evaluate(now=NOW) == 0


def test_a_negative_share_spike_raises_one_alert_with_negative_samples(traffic, make_rule):
    rule = make_rule(kind=AlertRule.Kind.NEGATIVE_SHARE_ANOMALY)
    volume_rule = make_rule(kind=AlertRule.Kind.VOLUME_ANOMALY)
    traffic.steady(per_hour=4, negative_per_hour=1)  # 25 % negative, as usual
    burst = traffic.burst(start=HOUR_START, end=NOW, count=12, negative=10)  # about as many, mostly angry

    assert [alert_rules_evaluate(now=NOW) for _ in range(3)] == [1, 0, 0]

    alert = Alert.objects.get()
    assert alert.rule == rule and volume_rule.alerts.count() == 0
    assert alert.observed == pytest.approx(100 * 10 / 12) and alert.expected == 25
    negatives = {m.pk for m in burst if m.sentiment == "negative"}
    assert set(alert.sample_message_ids) == negatives


def test_threshold_rules_raise_above_their_threshold_once(traffic, make_rule):
    volume = make_rule(kind=AlertRule.Kind.VOLUME_THRESHOLD, threshold=30)
    high = make_rule(kind=AlertRule.Kind.VOLUME_THRESHOLD, threshold=100)
    share = make_rule(kind=AlertRule.Kind.NEGATIVE_SHARE_THRESHOLD, threshold=50, min_volume=10)
    traffic.burst(start=HOUR_START, end=NOW, count=35, negative=20)

    assert alert_rules_evaluate(now=NOW) == 2
    assert alert_rules_evaluate(now=NOW + timedelta(minutes=5)) == 0

    assert volume.alerts.get().observed == 35 and share.alerts.get().observed == pytest.approx(100 * 20 / 35)
    assert volume.alerts.get().score is None and not high.alerts.exists()


def test_a_share_threshold_needs_its_minimum_volume(traffic, make_rule):
    make_rule(kind=AlertRule.Kind.NEGATIVE_SHARE_THRESHOLD, threshold=50, min_volume=10)
    traffic.burst(start=HOUR_START, end=NOW, count=3, negative=3)

    assert alert_rules_evaluate(now=NOW) == 0


def test_an_inactive_rule_and_another_brand_stay_silent(traffic, make_rule, org_a):
    make_rule(active=False)
    make_rule(brand=BrandFactory(organization=org_a))
    traffic.steady(per_hour=3)
    traffic.burst(start=HOUR_START, end=NOW, count=40)

    assert alert_rules_evaluate(now=NOW) == 0


def test_the_alert_is_notified_in_app_to_the_people_of_the_brand(traffic, make_rule, org_a, admin_a, org_b):
    rule = make_rule()
    manager = membership_create(org_a, role=Role.COMMUNITY_MANAGER)
    other_brand_manager = membership_create(
        org_a, role=Role.COMMUNITY_MANAGER, brands=[BrandFactory(organization=org_a)]
    )
    marketer = membership_create(org_a, role=Role.MARKETER)
    stranger = membership_create(org_b, role=Role.ADMIN)
    traffic.steady(per_hour=3)
    traffic.burst(start=HOUR_START, end=NOW, count=40)

    alert_rules_evaluate(now=NOW)
    alert_rules_evaluate(now=NOW + timedelta(minutes=5))

    alert = Alert.objects.get()
    notified = Notification.objects.filter(kind="alert")
    assert {n.recipient_id for n in notified} == {admin_a.user_id, manager.user_id}
    assert {other_brand_manager.user_id, marketer.user_id, stranger.user_id}.isdisjoint(
        n.recipient_id for n in notified
    )
    assert all(n.link == f"/alerts/{alert.pk}/" for n in notified)
    assert all(n.message_id == alert.sample_message_ids[0] for n in notified)
    assert rule.last_evaluated_at is None  # the instance; the row was stamped
    rule.refresh_from_db()
    assert rule.last_evaluated_at == NOW + timedelta(minutes=5)


def test_chosen_members_are_the_only_ones_notified(traffic, make_rule, org_a, admin_a):
    manager = membership_create(org_a, role=Role.COMMUNITY_MANAGER)
    membership_create(org_a, role=Role.COMMUNITY_MANAGER)
    rule = make_rule()
    rule.notify_members.set([manager.user])
    traffic.steady(per_hour=3)
    traffic.burst(start=HOUR_START, end=NOW, count=40)

    alert, created = alert_rule_evaluate(rule_id=rule.pk, now=NOW)

    assert created and list(Notification.objects.values_list("recipient_id", flat=True)) == [manager.user_id]
