"""An SLA escalation's "notify" goes the ways CXM tells people anything: the notifications app (the list and
bell of each recipient, live on their open pages: its only delivery) and the webhook endpoints the
organisation subscribed to the SLA events (its own paging, chat or email tools), delivered by a real
worker. Nobody is left out: an unassigned conversation in no team tells the admins of its brand."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.notifications.models import Notification
from apps.routing.models import SLAPolicy
from apps.routing.services import routing_setting_save, sla_check
from apps.webhooks import services as webhooks
from apps.webhooks.signing import verify_signature
from tests.factories import BrandFactory, ConversationFactory, MessageFactory, TeamFactory, membership_create
from tests.webhooks.conftest import Receiver

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver(monkeypatch):
    # The worker is another process: the receiver on 127.0.0.1 is allowed there by its environment.
    monkeypatch.setenv("CXM_ALLOW_PRIVATE_DESTINATIONS", "1")
    with Receiver() as server:
        yield server


def _policy(brand, **escalations):
    return routing_setting_save(
        instance=SLAPolicy(
            organization=brand.organization, brand=brand, name="P", first_response_minutes=30, **escalations
        ),
        actor=None,
    )


def _late(brand, **fields):
    conversation = ConversationFactory(
        channel__brand=brand, sla_due_at=timezone.now() - timedelta(minutes=1), **fields
    )
    MessageFactory(conversation=conversation, direction="inbound")
    return conversation


def test_a_breach_notifies_the_assignee_in_the_app_and_the_subscribed_endpoint(
    receiver, celery_worker, org_a, brand_a, client
):
    admin = membership_create(org_a, Role.ADMIN, username="boss")
    agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="ann")
    endpoint, secret = webhooks.endpoint_create(
        organization=org_a,
        url=receiver.hook_url,
        events=["conversation.sla_breached", "conversation.sla_warning"],
        actor=admin.user,
    )
    _policy(brand_a, escalate_notify=True)
    conversation = _late(brand_a, assignee=agent.user)

    assert sla_check() == {"warned": 0, "breached": 1}

    # In the app: the agent's notification, on their list
    notification = Notification.objects.get(kind=Notification.Kind.SLA_BREACHED)
    assert notification.recipient == agent.user and notification.conversation == conversation
    client.force_login(agent.user)
    assert "missed an sla deadline on" in client.get("/notifications/").content.decode()
    # And to the organisation's tools: the signed event, delivered by the worker
    deadline = time.monotonic() + 30
    while not receiver.requests:
        assert time.monotonic() < deadline, "no delivery"
        time.sleep(0.2)
    request = receiver.requests[0]
    assert verify_signature(secret, request.headers["x-cxm-signature"], request.body)
    body = request.json()
    assert body["event"] == "conversation.sla_breached"
    data = body["data"]
    assert data["conversation"] == conversation.pk and data["target"] == "first_response"
    assert data["notified"] == [agent.user.pk] and data["assignee"] == agent.user.pk


def test_unassigned_the_team_hears_of_it_in_no_team_the_brands_admins_and_without_notify_nobody(
    celery_worker, org_a, brand_a
):
    other_brand = BrandFactory(organization=org_a)
    admin = membership_create(org_a, Role.ADMIN, username="boss")
    membership_create(org_a, Role.ADMIN, brands=[brand_a], username="brand.boss")
    elsewhere_admin = membership_create(org_a, Role.ADMIN, brands=[other_brand], username="other.boss")
    agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="ann")
    teammate = membership_create(org_a, Role.COMMUNITY_MANAGER, username="bob")
    team = TeamFactory(organization=org_a, name="Care")
    team.members.add(agent.user, teammate.user, elsewhere_admin.user)
    _policy(brand_a, escalate_notify=True)
    in_team, in_none = _late(brand_a, team=team), _late(brand_a)

    assert sla_check()["breached"] == 2

    def told(conversation):
        notified = Notification.objects.filter(conversation=conversation)
        return set(notified.values_list("recipient__username", flat=True))

    assert told(in_team) == {"ann", "bob"}  # the admin of another brand is in the team, not on this brand
    assert told(in_none) == {"boss", "brand.boss"}
    assert admin and elsewhere_admin

    quiet_brand = BrandFactory(organization=org_a)
    _policy(quiet_brand, escalate_notify=False)
    quiet = _late(quiet_brand, assignee=agent.user)
    assert sla_check()["breached"] == 1
    assert not Notification.objects.filter(conversation=quiet).exists()
