import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.conversations.models import Message
from apps.core.models import AuditEvent
from apps.customers.models import CustomerMerge, Identity, MergeSuggestion
from apps.customers.selectors import customer_export, customer_timeline
from apps.customers.services import MergeError, customer_erase, customer_merge, customer_unmerge
from apps.ingestion.models import RawPayload
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    IdentityFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_profiles(org_a, brand_a):
    channel = ChannelFactory(brand=brand_a)
    profiles = []
    for name, attributes in (
        ("Dana on X", {"plan": "gold"}),
        ("Dana by email", {"city": "Lyon", "plan": "free"}),
    ):
        customer = CustomerFactory(organization=org_a, display_name=name, attributes=attributes)
        IdentityFactory(customer=customer)
        IdentityFactory(customer=customer)
        conversation = ConversationFactory(channel=channel, customer=customer)
        MessageFactory(conversation=conversation, text=f"message of {name}")
        profiles.append(customer)
    return profiles


def test_merge_moves_everything_and_unmerge_restores_it_exactly(two_profiles, make_membership, org_a):
    target, source = two_profiles
    actor = make_membership(org_a, Role.COMMUNITY_MANAGER).user
    source_identities = set(source.identities.values_list("pk", flat=True))
    source_conversations = set(source.conversations.values_list("pk", flat=True))

    merge = customer_merge(source=source, target=target, actor=actor, reason="same person")
    target.refresh_from_db()
    source.refresh_from_db()
    assert source.merged_into == target
    assert target.identities.count() == 4 and target.conversations.count() == 2
    assert target.attributes == {"plan": "gold", "city": "Lyon"}  # the target's own values win
    assert (
        len(
            [
                e
                for e in customer_timeline(customer=target, membership=make_membership(org_a, Role.ADMIN))
                if e.kind == "message"
            ]
        )
        == 2
    )

    customer_unmerge(merge=merge, actor=actor)
    target.refresh_from_db()
    source.refresh_from_db()
    assert source.merged_into is None
    assert set(source.identities.values_list("pk", flat=True)) == source_identities
    assert set(source.conversations.values_list("pk", flat=True)) == source_conversations
    assert target.identities.count() == 2 and target.conversations.count() == 1
    assert target.attributes == {"plan": "gold"}
    actions = list(AuditEvent.objects.order_by("created_at").values_list("action", flat=True))
    assert actions == ["customer.merged", "customer.unmerged"]
    with pytest.raises(MergeError):
        customer_unmerge(merge=merge, actor=actor)


def test_merge_refuses_self_other_tenant_and_merged_profiles(two_profiles, org_b):
    target, source = two_profiles
    with pytest.raises(MergeError):
        customer_merge(source=target, target=target, actor=None, reason="x")
    with pytest.raises(MergeError):
        customer_merge(source=CustomerFactory(organization=org_b), target=target, actor=None, reason="x")
    customer_merge(source=source, target=target, actor=None, reason="x")
    with pytest.raises(MergeError):
        customer_merge(source=source, target=target, actor=None, reason="again")


def test_agent_confirms_a_suggestion_and_unmerges_from_the_profile_page(
    two_profiles, org_a, make_membership, login
):
    target, source = two_profiles
    suggestion = MergeSuggestion.objects.create(
        organization=org_a, customer=source, candidate=target, reason="same full name"
    )
    client = login(make_membership(org_a, Role.COMMUNITY_MANAGER))
    page = client.get(reverse("customers:detail", args=[target.pk])).content.decode()
    assert "same full name" in page

    client.post(reverse("customers:suggestion_decide", args=[suggestion.pk]), {"decision": "accept"})
    suggestion.refresh_from_db()
    assert suggestion.status == MergeSuggestion.Status.ACCEPTED
    merge = CustomerMerge.objects.get()
    assert merge.target_id == target.pk  # the older profile keeps the history

    client.post(reverse("customers:unmerge", args=[merge.pk]))
    source.refresh_from_db()
    assert source.merged_into is None


def test_rejected_suggestion_merges_nothing(two_profiles, org_a, make_membership, login):
    target, source = two_profiles
    suggestion = MergeSuggestion.objects.create(
        organization=org_a, customer=source, candidate=target, reason="same handle on another channel"
    )
    client = login(make_membership(org_a, Role.COMMUNITY_MANAGER))
    client.post(reverse("customers:suggestion_decide", args=[suggestion.pk]), {"decision": "reject"})
    suggestion.refresh_from_db()
    assert suggestion.status == MergeSuggestion.Status.REJECTED
    assert not CustomerMerge.objects.exists()


def test_export_holds_everything_about_the_person(two_profiles, org_a, make_membership, login):
    target, source = two_profiles
    customer_merge(source=source, target=target, actor=None, reason="x")
    admin = make_membership(org_a, Role.ADMIN)
    data = customer_export(customer=target, membership=admin)
    assert len(data["identities"]) == 4
    assert {m["text"] for m in data["messages"]} == {"message of Dana on X", "message of Dana by email"}
    client = login(admin)
    response = client.get(reverse("customers:export", args=[target.pk]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]


def test_erase_redacts_messages_and_payloads_removes_identities_and_keeps_an_audit(
    two_profiles, org_a, make_membership, login
):
    customer = two_profiles[0]
    conversation = customer.conversations.get()
    payload = RawPayload.objects.create(
        organization=org_a,
        channel=conversation.channel,
        source="webhook",
        body=b'{"text": "my address is 1 Main St"}',
        headers={"x": "y"},
    )
    Message.objects.filter(conversation=conversation).update(raw_payload=payload)
    agent = make_membership(org_a, Role.COMMUNITY_MANAGER)
    assert login(agent).post(reverse("customers:erase", args=[customer.pk])).status_code == 403

    admin = make_membership(org_a, Role.ADMIN)
    login(admin).post(reverse("customers:erase", args=[customer.pk]))
    customer.refresh_from_db()
    payload.refresh_from_db()
    assert customer.erased_at is not None and customer.display_name == "" and customer.attributes == {}
    assert not Identity.objects.filter(customer=customer).exists()
    assert set(Message.objects.filter(conversation=conversation).values_list("text", flat=True)) == {
        "[erased]"
    }
    assert bytes(payload.body) == b""
    audit = AuditEvent.objects.get(action="customer.erased")
    assert audit.target_id == str(customer.pk) and audit.data["messages_redacted"] == 1
    # The other profile is untouched.
    assert Message.objects.filter(text="message of Dana by email").exists()


def test_erase_service_covers_profiles_merged_into_the_customer(two_profiles):
    target, source = two_profiles
    customer_merge(source=source, target=target, actor=None, reason="x")
    summary = customer_erase(customer=target, actor=None)
    assert (
        summary["profiles"] == 2 and summary["identities_removed"] == 4 and summary["messages_redacted"] == 2
    )
