"""Saved replies: variables filled from the customer, the brand and the agent; scoped per brand and team."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.accounts.models import Role
from apps.replies.models import SavedReply
from apps.replies.selectors import saved_replies_for
from apps.replies.services import saved_reply_save
from apps.replies.variables import variable_values, variables_fill, variables_template
from tests.factories import BrandFactory, CustomerFactory, TeamFactory, membership_create

from .factories import SavedReplyFactory

pytestmark = pytest.mark.django_db


def test_variables_are_filled_and_unknown_ones_left_visible_and_flagged(telegram_conversation, agent):
    values = variable_values(
        customer=telegram_conversation.customer, brand=telegram_conversation.brand, agent=agent.user
    )
    filled = variables_fill("Hi {first_name} {last_name}, {brand} here. Order {order_id}? {agent}", values)
    assert filled.text == "Hi Ana Lima, Brand A here. Order {order_id}? Sam"
    assert filled.unknown == ("order_id",) and filled.missing == ()


def test_crm_attributes_win_and_a_missing_name_stays_visible(org_a, brand_a, agent):
    customer = CustomerFactory(organization=org_a, display_name="analima99", attributes={"first_name": "Ana"})
    values = variable_values(customer=customer, brand=brand_a, agent=agent.user)
    assert variables_fill("Hi {first_name} {last_name}", values) == variables_fill(
        "Hi Ana {last_name}", values
    )
    filled = variables_fill("Hi {first_name} {last_name}", values)
    assert filled.text == "Hi Ana {last_name}" and filled.missing == ("last_name",)


def test_a_reply_written_for_one_customer_is_templated_for_the_next():
    values = {"first_name": "Ana", "last_name": "Lima", "brand": "Nimbus", "agent": "Sam"}
    text = "Hi Ana, Nimbus has refunded you. Analysis attached. Sam"
    assert (
        variables_template(text, values)
        == "Hi {first_name}, {brand} has refunded you. Analysis attached. {agent}"
    )


def test_saved_replies_per_brand_and_team(org_a, org_b, brand_a, agent, telegram_conversation):
    mine, theirs, routed = (TeamFactory(organization=org_a, name=name) for name in ("Care", "Billing", "VIP"))
    mine.members.add(agent.user)
    telegram_conversation.team = routed
    telegram_conversation.save()
    visible = {
        SavedReplyFactory(organization=org_a, title="Everyone"),
        SavedReplyFactory(organization=org_a, brand=brand_a, title="Brand A"),
        SavedReplyFactory(organization=org_a, team=mine, title="My team"),
        SavedReplyFactory(organization=org_a, brand=brand_a, team=routed, title="The conversation's team"),
    }
    SavedReplyFactory(organization=org_a, brand=BrandFactory(organization=org_a), title="Other brand")
    SavedReplyFactory(organization=org_a, team=theirs, title="Other team")
    SavedReplyFactory(organization=org_b, title="Other organisation")
    assert set(saved_replies_for(conversation=telegram_conversation, agent=agent.user)) == visible


def test_the_composer_inserts_a_saved_reply_with_its_variables_filled(
    org_a, agent, login, telegram_conversation
):
    saved = SavedReplyFactory(
        organization=org_a, body="Hi {first_name}, your order {order_id} is on its way."
    )
    client = login(agent)
    response = client.post(
        reverse("replies:compose", args=[telegram_conversation.pk]),
        {
            "action": "insert",
            "saved_reply": saved.pk,
            "text": "",
            "channel": telegram_conversation.channel_id,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert ">Hi Ana, your order {order_id} is on its way.</textarea>" in html
    assert "CXM does not know {order_id}: replace it yourself." in html
    assert 'data-issue="variables"' in html  # the live check flags it too


def test_saved_replies_of_another_organisation_or_team_cannot_be_inserted(
    org_a, org_b, agent, login, telegram_conversation
):
    client = login(agent)
    for saved in (
        SavedReplyFactory(organization=org_b, body="secret of org B"),
        SavedReplyFactory(organization=org_a, team=TeamFactory(organization=org_a), body="another team's"),
    ):
        response = client.post(
            reverse("replies:compose", args=[telegram_conversation.pk]),
            {"action": "insert", "saved_reply": saved.pk, "text": ""},
        )
        assert response.status_code == 404
    page = client.get(reverse("replies:composer", args=[telegram_conversation.pk])).content.decode()
    assert "secret of org B" not in page and "another team" not in page


def test_admins_manage_saved_replies_in_the_admin_and_a_change_is_embedded_again(org_a, brand_a, login):
    admin = membership_create(org_a, Role.ADMIN)
    client = login(admin)
    response = client.post(
        reverse("admin:replies_savedreply_add"),
        {
            "title": "Refunds",
            "body": "Hi {first_name}, refunds take 5 days.",
            "language": "en",
            "scope": "brand",
            "brand": brand_a.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = SavedReply.objects.get()
    assert saved.organization == org_a and saved.created_by == admin.user and saved.brand == brand_a

    SavedReply.objects.filter(pk=saved.pk).update(embedding=[0.1] * 512)
    saved.refresh_from_db()
    saved.language = "en-GB"
    saved_reply_save(saved_reply=saved, actor=admin.user)
    assert SavedReply.objects.get(pk=saved.pk).embedding is not None  # same text: still embedded
    saved.body = "Hi {first_name}, refunds take 3 days."
    saved_reply_save(saved_reply=saved, actor=admin.user)
    assert SavedReply.objects.get(pk=saved.pk).embedding is None


def test_a_saved_reply_cannot_name_another_organisations_brand(org_a, brand_b, agent):
    saved = SavedReply(organization=org_a, brand=brand_b, title="Wrong", body="Hello")
    with pytest.raises(ValidationError, match="another organisation"):
        saved_reply_save(saved_reply=saved, actor=agent.user)
