"""SLA clocks: deadlines in business hours from the real pipeline, pauses over a weekend and a holiday under a
frozen clock, warnings and breaches from the real beat and worker."""

import time
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.models import Role
from apps.conversations.models import Conversation
from apps.conversations.services import conversations_bulk_set_status
from apps.core.models import AuditEvent
from apps.notifications.models import Notification
from apps.replies.services import reply_send
from apps.routing.models import BusinessHours, ConversationSLA, Holiday, SLAOutcome, SLAPolicy
from apps.routing.selectors import within_business_hours
from apps.routing.services import routing_setting_save
from tests.conftest import spawn_beat, spawn_worker, stop_worker
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory, membership_create
from tests.ingestion.conftest import message

OFFICE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
FRIDAY_4PM_PARIS = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
HOLIDAY_MONDAY = date(2026, 12, 7)


def _paris_office(brand) -> BusinessHours:
    hours = routing_setting_save(
        instance=BusinessHours(
            organization=brand.organization,
            brand=brand,
            name="Paris office",
            timezone="Europe/Paris",
            weekly=OFFICE,
        ),
        actor=None,
    )
    routing_setting_save(
        instance=Holiday(organization=brand.organization, calendar=hours, date=HOLIDAY_MONDAY, name="Closed"),
        actor=None,
    )
    return hours


def _policy(brand, **targets) -> SLAPolicy:
    return routing_setting_save(
        instance=SLAPolicy(organization=brand.organization, brand=brand, name="Standard", **targets),
        actor=None,
    )


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_message_on_friday_afternoon_is_due_after_the_weekend_and_the_holiday(
    brand_a, webhook_channel, post_signed, celery_worker
):
    # Given Paris office hours with Monday a holiday, and a 4-hour first response, 2-day resolution policy
    _paris_office(brand_a)
    _policy(brand_a, first_response_minutes=240, resolution_minutes=960)
    # When a customer writes at 16:00 on Friday, through the webhook and the worker
    body = {"messages": [message(1, sent_at=FRIDAY_4PM_PARIS.isoformat())]}
    assert post_signed(webhook_channel, body).status_code == 200
    deadline = time.monotonic() + 90
    while not ConversationSLA.objects.exists():
        assert time.monotonic() < deadline, "no SLA row"
        time.sleep(0.3)
    conversation = Conversation.objects.get()
    # Then one hour counts on Friday, none on the weekend or the holiday, three on Tuesday: 12:00 in Paris
    assert conversation.sla_due_at == datetime(2026, 12, 8, 11, 0, tzinfo=UTC)
    # And the resolution is due two working days later: Wednesday 16:00 in Paris
    assert conversation.sla.resolution_due_at == datetime(2026, 12, 9, 15, 0, tzinfo=UTC)
    assert not within_business_hours(brand_a, at=datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
    assert within_business_hours(brand_a, at=datetime(2026, 12, 8, 10, 0, tzinfo=UTC))


@pytest.mark.django_db(transaction=True)
def test_the_clock_pauses_while_waiting_on_the_customer_over_a_weekend_and_a_holiday(brand_a):
    _paris_office(brand_a)
    _policy(brand_a, first_response_minutes=240, resolution_minutes=960)
    agent = membership_create(brand_a.organization, Role.COMMUNITY_MANAGER, username="ann").user
    channel = ChannelFactory(brand=brand_a, kind="email")
    with time_machine.travel(FRIDAY_4PM_PARIS, tick=False):
        conversation = ConversationFactory(brand=brand_a, channel=channel, sla_due_at=None)
        MessageFactory(conversation=conversation, direction="inbound", sent_at=FRIDAY_4PM_PARIS)
        from apps.routing.services import sla_row_ensure

        sla_row_ensure(conversation)
        Conversation.objects.filter(pk=conversation.pk).update(
            sla_due_at=datetime(2026, 12, 8, 11, 0, tzinfo=UTC)
        )
    # When the agent asks the customer something at 16:30 on Friday and waits for them (pending)
    with time_machine.travel(FRIDAY_4PM_PARIS + timedelta(minutes=30), tick=False):
        conversations_bulk_set_status(conversations=[conversation], status="pending", actor=agent)
    assert ConversationSLA.objects.get().paused_at == FRIDAY_4PM_PARIS + timedelta(minutes=30)
    conversation.refresh_from_db()
    assert conversation.sla_due_at is None  # nothing is due from the brand while it waits on the customer
    # And the customer answers on Tuesday at 10:00 Paris time, which reopens it
    tuesday_10am = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    with time_machine.travel(tuesday_10am, tick=False):
        conversations_bulk_set_status(conversations=[conversation], status="open", actor=agent)
    # Then the 210 working minutes left at the pause (30 on Friday, 180 on Tuesday) run from Tuesday 10:00:
    # the weekend and the holiday never counted, nor the hour paused on Tuesday morning
    conversation.refresh_from_db()
    assert conversation.sla_due_at == tuesday_10am + timedelta(minutes=210)
    row = ConversationSLA.objects.get()
    assert row.paused_at is None
    # Resolution: 960 working minutes from Friday 16:00; 30 were used before the pause; 930 left from Tuesday
    # 10:00 = 7 h on Tuesday, 8 h on Wednesday, 30 min on Thursday: Thursday 09:30 Paris
    assert row.resolution_due_at == datetime(2026, 12, 10, 8, 30, tzinfo=UTC)

    # When the agent replies (frozen at Tuesday 11:00 Paris), the first response is met
    with time_machine.travel(tuesday_10am + timedelta(hours=1), tick=False):
        reply_send(conversation=conversation, author=agent, text="Here is the answer")
    outcome = SLAOutcome.objects.get(target="first_response")
    assert outcome.met and outcome.agent_id is None
    conversation.refresh_from_db()
    assert conversation.sla_due_at is None


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_beat_warns_before_a_breach_then_escalates_it(brand_a, tmp_path):
    # Given a policy warning 1 minute ahead that raises the priority on a breach, the real beat (every minute
    # scaled to 3 s) and a worker running, and an assigned conversation whose first response is due in 15 s
    _policy(brand_a, first_response_minutes=60, warn_before_minutes=1, escalate_raise_priority=True)
    agent = membership_create(brand_a.organization, Role.COMMUNITY_MANAGER, username="bob").user
    worker = spawn_worker(f"sla-{time.monotonic_ns()}@localhost")
    beat = spawn_beat(tmp_path / "celerybeat-schedule", env={"CXM_BEAT_SCALE": "0.05"})
    try:
        conversation = ConversationFactory(
            brand=brand_a,
            channel=ChannelFactory(brand=brand_a, kind="email"),
            assignee=agent,
            priority=10,
            sla_due_at=timezone.now() + timedelta(seconds=15),
        )
        MessageFactory(conversation=conversation, direction="inbound")
        # When the deadline comes and goes
        deadline = time.monotonic() + 90
        while not Notification.objects.filter(kind=Notification.Kind.SLA_BREACHED).exists():
            assert time.monotonic() < deadline, "no breach"
            time.sleep(0.5)
    finally:
        beat.terminate()
        beat.wait(20)
        stop_worker(worker)
    # Then the agent was warned before the deadline and told of the breach after it, once each
    assert Notification.objects.filter(recipient=agent, kind=Notification.Kind.SLA_WARNING).count() == 1
    assert Notification.objects.filter(recipient=agent, kind=Notification.Kind.SLA_BREACHED).count() == 1
    # And the breach raised the priority, counts as missed, and is explained in the activity
    conversation.refresh_from_db()
    assert conversation.priority == 75
    assert SLAOutcome.objects.get(target="first_response").met is False
    activity = AuditEvent.objects.filter(target_id=str(conversation.pk), action__startswith="routing.sla")
    explanations = [event.data["explanation"] for event in activity.order_by("pk")]
    assert explanations[0].startswith("The first response is due at")
    assert "raised the priority to urgent" in explanations[1]
