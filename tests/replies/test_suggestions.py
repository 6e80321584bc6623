"""Suggested replies: the replies that resolved the most similar conversations, and saved replies, as drafts
in the customer's language with their variables filled; never another organisation's; never sent."""

import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.accounts.models import Role
from apps.conversations.models import Conversation, Message
from apps.conversations.services import conversation_set_status
from apps.replies.models import ResolutionExample
from apps.replies.services import resolution_examples_record
from apps.replies.suggestions import reply_suggestions
from tests.factories import BrandFactory, ChannelFactory, CustomerFactory, membership_create

from .conftest import conversation_on, hours_ago, outbound_reply
from .factories import SavedReplyFactory

pytestmark = pytest.mark.django_db

SPANISH_QUESTION = "¿Dónde está mi pedido? Todavía no ha llegado."
SPANISH_REPLY = "Hola Carmen, tu pedido sale mañana del almacén de Brand A. Un saludo, Sam"
ENGLISH_QUESTION = "Where is my order? It still has not arrived."
ENGLISH_REPLY = "Hi Tom, your order leaves the Brand A warehouse tomorrow."


def resolved(channel, question: str, reply: str, *, customer_name: str, author=None) -> Conversation:
    """A conversation the customer opened with `question`, answered with `reply`, then closed."""
    customer = CustomerFactory(organization=channel.organization, display_name=customer_name)
    conversation = conversation_on(channel, text=question, sent_at=hours_ago(5), customer=customer)
    outbound_reply(conversation, reply, author=author, at=hours_ago(4))
    conversation_set_status(conversation=conversation, status=Conversation.Status.CLOSED, actor=author)
    return conversation


@pytest.fixture
def history(brand_a, agent, django_capture_on_commit_callbacks):
    """Three resolved conversations of brand A, recorded as resolution examples."""
    channel = ChannelFactory(brand=brand_a)
    with django_capture_on_commit_callbacks(execute=False):  # the workers' part is done here, in-process
        conversations = [
            resolved(
                channel, SPANISH_QUESTION, SPANISH_REPLY, customer_name="Carmen Ruiz", author=agent.user
            ),
            resolved(channel, ENGLISH_QUESTION, ENGLISH_REPLY, customer_name="Tom Baker", author=agent.user),
            resolved(
                channel, "I love the new app design!", "Thank you so much, Lee!", customer_name="Lee Chan"
            ),
        ]
    assert resolution_examples_record(conversation_ids=[c.pk for c in conversations]) == 3
    return channel, conversations


def test_an_example_keeps_the_question_and_the_reply_as_a_template(history):
    _, (spanish, *_) = history
    example = ResolutionExample.objects.get(conversation=spanish)
    assert example.question_text == SPANISH_QUESTION and example.language == "es"
    assert (
        example.reply_text
        == "Hola {first_name}, tu pedido sale mañana del almacén de {brand}. Un saludo, {agent}"
    )
    assert len(example.embedding) == 512 and example.encoder == "use-multilingual"


def test_drafts_come_from_the_most_similar_resolution_in_the_customers_language(history, agent):
    channel, (spanish, english, _) = history
    conversation = conversation_on(
        channel, text="Mi pedido todavía no ha llegado, ¿dónde está?", language="es"
    )

    found = reply_suggestions(conversation=conversation, membership=agent, agent=agent.user)

    assert found.language == "es" and len(found.drafts) == 3
    first, second, _ = found.drafts
    assert first.text == "Hola Ana, tu pedido sale mañana del almacén de Brand A. Un saludo, Sam"
    assert (first.source, first.conversation_id, first.in_customer_language) == (
        "resolution",
        spanish.pk,
        True,
    )
    assert first.question == SPANISH_QUESTION and first.similarity > 0.6
    assert (second.conversation_id, second.language, second.in_customer_language) == (english.pk, "en", False)
    assert second.text == "Hi Ana, your order leaves the Brand A warehouse tomorrow."
    assert not conversation.messages.filter(direction=Message.Direction.OUTBOUND).exists()  # nothing sent


def test_a_matching_saved_reply_is_a_draft_too(history, org_a, agent):
    channel, _ = history
    SavedReplyFactory(
        organization=org_a,
        title="Reset a password",
        language="en",
        body="Hi {first_name}, you can reset your password from the login page.",
    )
    conversation = conversation_on(channel, text="I forgot my password, how do I reset it?", language="en")
    found = reply_suggestions(conversation=conversation, membership=agent, agent=agent.user)
    first = found.drafts[0]
    assert (first.source, first.title) == ("saved", "Reset a password")
    assert first.text == "Hi Ana, you can reset your password from the login page."


def test_another_organisations_or_brands_resolutions_are_never_suggested(
    history, org_a, org_b, brand_b, agent
):
    elsewhere = ChannelFactory(brand=brand_b)
    with_secret = resolved(elsewhere, SPANISH_QUESTION, "Org B's secret answer", customer_name="Eve Doe")
    other_brand = ChannelFactory(brand=BrandFactory(organization=org_a, name="Brand A2"))
    sister = resolved(other_brand, SPANISH_QUESTION, "The sister brand's answer", customer_name="Bo Li")
    SavedReplyFactory(organization=org_b, title="¿Dónde está mi pedido?", body="Org B's saved secret")
    resolution_examples_record(conversation_ids=[with_secret.pk, sister.pk])
    channel, _ = history
    conversation = conversation_on(channel, text=SPANISH_QUESTION, language="es")

    everyone = reply_suggestions(conversation=conversation, membership=agent, agent=agent.user)
    texts = [draft.text for draft in everyone.drafts]
    assert "Org B's secret answer" not in texts and "Org B's saved secret" not in texts
    assert "The sister brand's answer" in texts  # the organisation's other brand, after its own

    limited = membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[channel.brand])
    only_brand_a = reply_suggestions(conversation=conversation, membership=limited, agent=limited.user)
    assert "The sister brand's answer" not in [draft.text for draft in only_brand_a.drafts]


def test_the_suggestions_partial_says_why_and_renders_hostile_html_inert(
    history, agent, login, django_capture_on_commit_callbacks
):
    channel, _ = history
    with django_capture_on_commit_callbacks(execute=False):
        hostile = resolved(
            channel,
            "My order never arrived, where is it?",
            '<img src=x onerror="alert(1)"><script>alert(2)</script> Your order ships today.',
            customer_name="Max Power",
        )
    resolution_examples_record(conversation_ids=[hostile.pk])
    conversation = conversation_on(channel, text="Where is my order? It has not arrived.", language="en")
    response = login(agent).get(
        reverse("replies:suggestions", args=[conversation.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Why:" in html and "% similar" in html and "Use draft 1" in html
    assert reverse("inbox:conversation", args=[hostile.pk]) in html
    assert "<script>alert(2)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_the_backfill_records_conversations_closed_before(brand_a, agent, django_capture_on_commit_callbacks):
    channel = ChannelFactory(brand=brand_a)
    with django_capture_on_commit_callbacks(execute=False):
        answered = resolved(
            channel, ENGLISH_QUESTION, ENGLISH_REPLY, customer_name="Tom Baker", author=agent.user
        )
        unanswered = conversation_on(channel, text="Hello?")
        conversation_set_status(conversation=unanswered, status=Conversation.Status.CLOSED, actor=None)
    call_command("backfill_reply_examples")
    assert list(ResolutionExample.objects.values_list("conversation_id", flat=True)) == [answered.pk]
    call_command("backfill_reply_examples", "--all")
    assert ResolutionExample.objects.count() == 1


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_closing_a_conversation_in_the_inbox_teaches_the_suggestions(brand_a, agent, login, celery_worker):
    channel = ChannelFactory(brand=brand_a)
    conversation = conversation_on(channel, text=ENGLISH_QUESTION, sent_at=hours_ago(2))
    outbound_reply(conversation, "Hi Ana, it left our warehouse this morning.", author=agent.user)

    response = login(agent).post(
        reverse("inbox:conversation_action", args=[conversation.pk]), {"action": Conversation.Status.CLOSED}
    )
    assert response.status_code == 302
    # The worker loads the sentence encoder first: seconds, a minute on a busy machine.
    deadline = time.monotonic() + 180
    while not ResolutionExample.objects.filter(conversation=conversation).exists():
        assert time.monotonic() < deadline, "the worker did not record the resolution"
        time.sleep(0.3)
    example = ResolutionExample.objects.get(conversation=conversation)
    assert (
        example.reply_text == "Hi {first_name}, it left our warehouse this morning."
        and example.language == "en"
    )

    newcomer = conversation_on(channel, text="My order has not arrived, where is it?", language="en")
    found = reply_suggestions(conversation=newcomer, membership=agent, agent=agent.user)
    assert found.drafts[0].conversation_id == conversation.pk
