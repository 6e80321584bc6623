"""Saved replies and macros kept in the app: who sees and changes which (one rule for pages, picker and API),
variables, macros run on one or many conversations through the conversations' services, undone as one."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role, Team
from apps.conversations.models import Conversation, Message
from apps.conversations.services import conversation_assign
from apps.core.models import AuditEvent
from apps.replies.macros import MacroRefused, macro_run, macro_undo
from apps.replies.models import Macro, SavedReply, Scope
from apps.replies.selectors import shelf_usable
from apps.replies.services import ShelfRefused, macro_save, saved_reply_save
from tests.factories import BrandFactory, ChannelFactory, membership_create

from .conftest import conversation_on
from .factories import SavedReplyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org_a):
    return membership_create(org_a, Role.ADMIN)


@pytest.fixture
def two_conversations(brand_a):
    channel = ChannelFactory(brand=brand_a)
    return [
        conversation_on(channel, text="Where is my parcel?", subject=f"Parcel {n}", priority=20.0)
        for n in (1, 2)
    ]


def test_the_one_rule_says_who_uses_which_saved_reply(org_a, org_b, brand_a, agent, admin):
    other_brand = BrandFactory(organization=org_a, name="Sister brand")
    team = Team.objects.create(organization=org_a, name="Billing")
    team.members.add(agent.user)
    other_team = Team.objects.create(organization=org_a, name="Returns")
    colleague = membership_create(org_a, Role.COMMUNITY_MANAGER)
    limited = membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[brand_a])
    made = {
        "org": SavedReplyFactory(organization=org_a, scope=Scope.ORGANIZATION),
        "brand": SavedReplyFactory(organization=org_a, scope=Scope.BRAND, brand=brand_a),
        "sister": SavedReplyFactory(organization=org_a, scope=Scope.BRAND, brand=other_brand),
        "team": SavedReplyFactory(organization=org_a, scope=Scope.TEAM, team=team),
        "other team": SavedReplyFactory(organization=org_a, scope=Scope.TEAM, team=other_team),
        "mine": SavedReplyFactory(organization=org_a, scope=Scope.PERSONAL, owner=agent.user),
        "colleague's": SavedReplyFactory(organization=org_a, scope=Scope.PERSONAL, owner=colleague.user),
        "org B": SavedReplyFactory(organization=org_b),
    }
    names = {reply.pk: name for name, reply in made.items()}

    def usable(membership, **where):
        return sorted(names[r.pk] for r in shelf_usable(SavedReply, membership=membership, **where))

    assert usable(agent) == sorted(["org", "brand", "sister", "team", "mine"])
    assert usable(agent, brand_id=brand_a.pk) == sorted(["org", "brand", "team", "mine"])
    assert usable(limited) == ["brand", "org"]
    # Admins manage every team's (in a conversation they use their own teams'), never someone's personal ones.
    assert usable(admin) == sorted(["org", "brand", "sister", "team", "other team"])
    assert usable(admin, brand_id=brand_a.pk) == ["brand", "org"]


def test_agents_save_personal_ones_and_admins_the_shared_ones(org_a, brand_a, agent, admin):
    shared = SavedReply(organization=org_a, title="Refunds", body="Hello", scope=Scope.ORGANIZATION)
    with pytest.raises(ShelfRefused, match="admins"):
        saved_reply_save(saved_reply=shared, actor=agent.user, membership=agent)
    saved_reply_save(saved_reply=shared, actor=admin.user, membership=admin)

    mine = SavedReply(title="My sign-off", body="Cheers, {{agent.name}}", scope=Scope.PERSONAL)
    saved_reply_save(saved_reply=mine, actor=agent.user, membership=agent)
    assert (mine.organization_id, mine.owner_id) == (org_a.pk, agent.user_id)
    mine.body = "Changed by someone else"
    with pytest.raises(ShelfRefused, match="owner"):
        saved_reply_save(saved_reply=mine, actor=admin.user, membership=admin)
    shared.body = "Changed by an agent"
    with pytest.raises(ShelfRefused):
        saved_reply_save(saved_reply=shared, actor=agent.user, membership=agent)
    actions = set(
        AuditEvent.objects.filter(target_type="replies.savedreply").values_list("action", flat=True)
    )
    assert actions == {"saved_reply.saved"}


def test_the_picker_fills_the_variables_for_this_conversation_and_counts_the_use(
    org_a, brand_a, agent, login, two_conversations
):
    conversation = two_conversations[0]
    reply = SavedReplyFactory(
        organization=org_a,
        title="Parcel on its way",
        folder="Delivery",
        body="Hi {{customer.first_name}}, {{agent.name}} from {{brand.name}} here. {{order.number}}",
    )
    client = login(agent)
    html = client.get(reverse("replies:picker", args=[conversation.pk]), {"q": "parcel"}).content.decode()
    assert "Parcel on its way" in html and "Hi Ana, " in html and "from Brand A here" in html
    assert (
        "No saved reply matches"
        in client.get(reverse("replies:picker", args=[conversation.pk]), {"q": "refund"}).content.decode()
    )

    used = client.post(reverse("replies:saved_reply_use", args=[conversation.pk, reply.pk])).json()
    assert used["text"].startswith("Hi Ana, ") and "{{order.number}}" in used["text"]
    assert used["notes"] == ["CXM does not know {{order.number}}: replace it yourself."]
    reply.refresh_from_db()
    assert reply.usage_count == 1 and reply.last_used_at is not None


def _macro(org_a, **fields) -> Macro:
    fields.setdefault("name", "Parcel lost")
    fields.setdefault("scope", Scope.ORGANIZATION)
    return Macro.objects.create(organization=org_a, **fields)


def test_a_macro_runs_on_many_conversations_and_is_undone(org_a, agent, two_conversations):
    reply = SavedReplyFactory(organization=org_a, title="Sorry")
    macro = _macro(
        org_a,
        actions=[
            {"type": "saved_reply", "saved_reply": reply.pk},
            {"type": "tag", "tag": "lost-parcel"},
            {"type": "assign", "assignee": "me"},
            {"type": "priority", "priority": 95.0},
            {"type": "status", "status": "pending"},
            {"type": "note", "text": "Asked the carrier for {{customer.first_name}}'s parcel."},
        ],
    )
    outcome = macro_run(macro=macro, conversations=two_conversations, actor=agent.user)

    for conversation in Conversation.objects.filter(pk__in=[c.pk for c in two_conversations]):
        assert (conversation.status, conversation.assignee_id, conversation.priority) == (
            "pending",
            agent.user_id,
            95.0,
        )
        assert [t.name for t in conversation.tags.all()] == ["lost-parcel"]
        note = conversation.messages.get(direction=Message.Direction.NOTE)
        assert note.text == "Asked the carrier for Ana's parcel."
    assert outcome.text == "" and "only when the macro runs on one conversation" in outcome.notes[0]
    macro.refresh_from_db()
    assert macro.usage_count == 1

    assert macro_undo(run=outcome.run, actor=agent.user) == []
    for conversation in Conversation.objects.filter(pk__in=[c.pk for c in two_conversations]):
        assert (conversation.status, conversation.assignee_id, conversation.priority) == ("open", None, 20.0)
        assert not conversation.tags.exists()
        assert conversation.messages.get(direction=Message.Direction.NOTE).deleted_at is not None
    with pytest.raises(MacroRefused, match="already undone"):
        macro_undo(run=outcome.run, actor=agent.user)
    audited = AuditEvent.objects.filter(target_type="replies.macrorun").values_list("action", flat=True)
    assert sorted(audited) == ["macro.run", "macro.undone"]


def test_on_one_conversation_the_saved_reply_comes_back_filled_and_undo_spares_later_changes(
    org_a, agent, two_conversations
):
    conversation = two_conversations[0]
    reply = SavedReplyFactory(organization=org_a, title="Sorry", body="Sorry, {{customer.first_name}}!")
    macro = _macro(
        org_a,
        actions=[{"type": "saved_reply", "saved_reply": reply.pk}, {"type": "assign", "assignee": "me"}],
    )
    outcome = macro_run(macro=macro, conversations=[conversation], actor=agent.user)
    assert outcome.text == "Sorry, Ana!" and outcome.notes == []
    reply.refresh_from_db()
    assert reply.usage_count == 1

    colleague = membership_create(org_a, Role.COMMUNITY_MANAGER)
    conversation_assign(conversation=conversation, assignee=colleague.user, actor=colleague.user)
    left = macro_undo(run=outcome.run, actor=agent.user)
    assert left and "assigned again since" in left[0]
    assert Conversation.objects.get(pk=conversation.pk).assignee == colleague.user


def test_a_macro_that_cannot_be_done_on_one_conversation_does_nothing(
    org_a, brand_a, agent, two_conversations
):
    limited = membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[brand_a])
    elsewhere = conversation_on(ChannelFactory(brand=BrandFactory(organization=org_a)), text="Hi")
    macro = _macro(
        org_a, actions=[{"type": "tag", "tag": "x"}, {"type": "assign", "assignee": limited.user_id}]
    )
    with pytest.raises(MacroRefused, match="does not work on"):
        macro_run(macro=macro, conversations=[*two_conversations, elsewhere], actor=agent.user)
    assert not Conversation.tags.through.objects.exists()


def test_a_macro_is_checked_before_it_is_saved(org_a, agent):
    wrong = [
        ([], "at least one action"),
        ([{"type": "delete everything"}], "the type is one of"),
        ([{"type": "status", "status": "snoozed"}], "the status is one of"),
        ([{"type": "snooze", "hours": 2}, {"type": "status", "status": "closed"}], "one or the other"),
    ]
    for actions, reason in wrong:
        macro = Macro(name="Bad", scope=Scope.PERSONAL, actions=actions)
        with pytest.raises(ShelfRefused, match=reason):
            macro_save(macro=macro, membership=agent)
    macro = Macro(name="Later", scope=Scope.PERSONAL, actions=[{"type": "snooze", "hours": 4}])
    macro_save(macro=macro, membership=agent)
    assert macro.owner == agent.user and macro.actions == [{"type": "snooze", "hours": 4}]


def test_bulk_from_the_inbox_list_and_undo(org_a, agent, login, two_conversations):
    macro = _macro(org_a, actions=[{"type": "snooze", "hours": 3}])
    client = login(agent)
    menu = client.get(reverse("replies:bulk_macros")).content.decode()
    assert "Parcel lost" in menu
    response = client.post(
        reverse("replies:macro_run_bulk"),
        {"macro": macro.pk, "conversation": [c.pk for c in two_conversations]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "inbox-acted"
    assert "on 2 conversations" in response.content.decode()
    snoozed = Conversation.objects.filter(status=Conversation.Status.SNOOZED)
    assert snoozed.count() == 2 and snoozed[0].snoozed_until > timezone.now() + timedelta(hours=2)

    run = macro.runs.get()
    undone = client.post(reverse("replies:macro_run_undo", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert undone.status_code == 200 and "Undone." in undone.content.decode()
    assert not Conversation.objects.filter(status=Conversation.Status.SNOOZED).exists()
    again = client.post(reverse("replies:macro_run_undo", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert again.status_code == 409


def test_the_api_keeps_the_same_rule(org_a, brand_a, agent, admin, login, two_conversations):
    client = login(agent)
    url = reverse("api:saved-reply-list")
    refused = client.post(url, {"title": "All", "body": "Hi", "scope": "organization"}, "application/json")
    assert refused.status_code == 400 and "admins" in refused.json()["detail"]
    made = client.post(
        url, {"title": "Mine", "body": "Hi {{customer.first_name}}", "scope": "personal"}, "application/json"
    )
    assert made.status_code == 201 and made.json()["owner"] == agent.user_id
    assert login(admin).get(url).json()["results"] == []  # someone else's personal reply

    client = login(agent)
    macro = client.post(
        reverse("api:macro-list"),
        {"name": "Close it", "scope": "personal", "actions": [{"type": "status", "status": "closed"}]},
        "application/json",
    )
    assert macro.status_code == 201, macro.content
    ran = client.post(
        reverse("api:macro-run", args=[macro.json()["id"]]),
        {"conversations": [c.pk for c in two_conversations]},
        "application/json",
    )
    assert ran.status_code == 201 and len(ran.json()["changes"]) == 2
    assert Conversation.objects.filter(status=Conversation.Status.CLOSED).count() == 2
    undone = client.post(reverse("api:macrorun-undo", args=[ran.json()["id"]]))
    assert undone.status_code == 200 and undone.json()["undone_at"]
    assert not Conversation.objects.filter(status=Conversation.Status.CLOSED).exists()


def test_a_run_names_conversations_of_any_brand_so_admins_limited_to_a_brand_read_only_their_own(
    org_a, brand_a, agent, admin, login, two_conversations
):
    macro = _macro(org_a, actions=[{"type": "tag", "tag": "seen"}])
    run = macro_run(macro=macro, conversations=two_conversations, actor=agent.user).run
    limited = membership_create(org_a, Role.ADMIN, brands=[BrandFactory(organization=org_a)])
    url = reverse("api:macrorun-list")

    assert [row["id"] for row in login(admin).get(url).json()["results"]] == [run.pk]
    assert login(limited).get(url).json()["results"] == []
    assert login(limited).get(reverse("api:macrorun-detail", args=[run.pk])).status_code == 404


def test_the_pages_list_search_and_save(org_a, agent, login):
    SavedReplyFactory(organization=org_a, title="Refund policy", folder="Billing", body="Refunds take 5 days")
    SavedReplyFactory(organization=org_a, title="Opening hours", folder="General", body="9 to 5")
    client = login(agent)
    page = client.get(reverse("replies:saved_replies"), {"q": "refund"}).content.decode()
    assert "Refund policy" in page and "Opening hours" not in page
    page = client.get(reverse("replies:saved_replies"), {"folder": "General"}).content.decode()
    assert "Opening hours" in page and "Refund policy" not in page

    response = client.post(
        reverse("replies:saved_reply_new"),
        {"title": "Mine", "body": "Hello {{customer.first_name}}", "scope": "personal", "folder": "Me"},
    )
    assert response.status_code == 302
    assert SavedReply.objects.get(title="Mine").owner == agent.user
    response = client.post(
        reverse("replies:macro_new"),
        {"name": "Tag and close", "scope": "personal", "tags": "vip, refund", "status": "closed"},
    )
    assert response.status_code == 302
    assert Macro.objects.get(name="Tag and close").actions == [
        {"type": "tag", "tag": "vip"},
        {"type": "tag", "tag": "refund"},
        {"type": "status", "status": "closed"},
    ]
