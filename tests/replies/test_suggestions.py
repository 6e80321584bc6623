"""Suggested replies: the replies that resolved the most similar conversations, and saved replies, as drafts
in the customer's language with their variables filled; never another organisation's; never sent."""

import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.conversations.models import Conversation, Message
from apps.conversations.services import conversation_set_status
from apps.replies.models import ResolutionExample
from apps.replies.services import resolution_examples_record
from apps.replies.suggestions import SIMILARITY_FLOOR, reply_suggestions
from tests.factories import BrandFactory, ChannelFactory, CustomerFactory

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

    # (The third resolution, thanks for praise, is below the similarity floor: no draft.)
    assert found.language == "es" and len(found.drafts) == 2
    first, second = found.drafts
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
    # The organisation's other brand answered the very same question: still not a draft for this brand.
    assert "The sister brand's answer" not in texts and texts


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


def _with_intent(conversation: Conversation, intent: str) -> Conversation:
    """The classifier's intent on the customer's messages (as the pipeline stores it)."""
    conversation.messages.filter(direction=Message.Direction.INBOUND).update(intent=intent)
    Conversation.objects.filter(pk=conversation.pk).update(intent=intent)
    conversation.refresh_from_db()
    return conversation


def test_nothing_below_the_similarity_floor_is_a_draft(brand_a, agent, django_capture_on_commit_callbacks):
    channel = ChannelFactory(brand=brand_a)
    with django_capture_on_commit_callbacks(execute=False):
        praise = resolved(
            channel, "I love the new app design!", "Thank you so much, Lee!", customer_name="Lee"
        )
    resolution_examples_record(conversation_ids=[praise.pk])
    conversation = conversation_on(channel, text="My parcel never arrived and nobody answers.", language="en")

    found = reply_suggestions(conversation=conversation, membership=agent, agent=agent.user)

    assert found.drafts == [] and found.floor == SIMILARITY_FLOOR
    close = conversation_on(channel, text="I really love the design of the new app!", language="en")
    (draft,) = reply_suggestions(conversation=close, membership=agent, agent=agent.user).drafts
    assert draft.conversation_id == praise.pk and draft.similarity >= SIMILARITY_FLOOR


def test_the_same_intent_wins_over_close_words_and_the_reason_says_so(
    brand_a, agent, login, django_capture_on_commit_callbacks
):
    channel = ChannelFactory(brand=brand_a)
    with django_capture_on_commit_callbacks(execute=False):
        parcel = _with_intent(
            resolved(
                channel,
                "Where is my parcel? The tracking in the app shows nothing.",
                "Hi Tom, your parcel left the warehouse this morning.",
                customer_name="Tom Baker",
            ),
            "question",
        )
        feature = _with_intent(
            resolved(
                channel,
                "Could you add parcel tracking to the app, please?",
                "Thanks for the suggestion, Eve! I've passed it on to our product team.",
                customer_name="Eve Doe",
            ),
            "feature_request",
        )
    resolution_examples_record(conversation_ids=[parcel.pk, feature.pk])
    conversation = _with_intent(
        conversation_on(channel, text="Please add live parcel tracking to the app.", language="en"),
        "feature_request",
    )

    found = reply_suggestions(conversation=conversation, membership=agent, agent=agent.user)

    # The parcel question is as close in words (above the floor), but answered another intent: left out.
    (first,) = found.drafts
    assert (first.conversation_id, first.intent, first.same_intent) == (feature.pk, "feature_request", True)
    html = (
        login(agent)
        .get(reverse("replies:suggestions", args=[conversation.pk]), HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "same intent: feature_request" in html and "% similar" in html
    assert (
        "Only Brand A&#x27;s resolved conversations" in html
        or "Only Brand A's resolved conversations" in html
    )


def test_a_saved_reply_written_for_the_intent_in_the_language_is_a_draft_whatever_its_words(
    brand_a, org_a, agent, login
):
    channel = ChannelFactory(brand=brand_a)
    SavedReplyFactory(
        organization=org_a,
        title="Suggestion passed on",
        intent="feature_request",
        language="en",
        body="Thanks for the idea, {{customer.first_name}}! Our product team reads every one.",
    )
    SavedReplyFactory(
        organization=org_a, title="Order update", intent="question", language="en", body="It ships today."
    )
    SavedReplyFactory(
        organization=org_a, title="Sugerencia", intent="feature_request", language="es", body="¡Gracias!"
    )
    conversation = _with_intent(
        conversation_on(channel, text="Please let me export my invoices as CSV.", language="en"),
        "feature_request",
    )

    (draft,) = reply_suggestions(conversation=conversation, membership=agent, agent=agent.user).drafts

    assert (draft.title, draft.written_for, draft.same_intent) == ("Suggestion passed on", True, True)
    assert draft.similarity < SIMILARITY_FLOOR  # its labels are the reason, and the page says so
    html = (
        login(agent)
        .get(reverse("replies:suggestions", args=[conversation.pk]), HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "written for feature_request in en" in html and "Thanks for the idea, Ana!" in html
