"""Suggested replies: drafts for the agent to edit and send, never sent by themselves.

The customer's latest message is encoded; the replies that resolved the most similar past conversations
of the same organisation and brand (nearest by cosine distance, in PostgreSQL) and the closest saved replies
the agent may use in this conversation are candidates when at least SIMILARITY_FLOOR similar, and so are
the saved replies written for the message's intent in the customer's language (their labels are the
reason). Those that answered the same intent as the customer's message come first, then those of an
unknown intent; those of another known intent are left out (an answer about a parcel is no answer to a
feature request, however close the words); within each, those in the customer's language first, then by
similarity. Their variables are filled for this customer. Each draft says where it came from and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.conversations.models import Conversation, Message

from .selectors import resolution_examples_nearest, saved_replies_for, saved_replies_nearest
from .services import saved_replies_embed, texts_encode
from .variables import FilledText, variable_values, variables_fill

DRAFTS = 3
#: Candidates read from each source before ranking (enough that some are left after the intent and the
#: language are taken into account).
CANDIDATES = 30
#: Below this cosine similarity a source is not a candidate at all: it answered another question.
SIMILARITY_FLOOR = 0.45


@dataclass(frozen=True)
class Suggestion:
    text: str
    source: str  # "resolution" | "saved"
    title: str  # the resolved conversation's subject, or the saved reply's title
    similarity: float  # cosine similarity of the customer's message to the source, 0–1
    language: str
    in_customer_language: bool
    filled: FilledText
    conversation_id: int | None = None
    question: str = ""  # the question the resolution answered
    brand: str = ""
    score: float = 0.0
    intent: str = ""  # the intent the source answered, "" when not known
    same_intent: bool | None = None  # None: one of the two intents is not known
    written_for: bool = False  # a saved reply written for the message's intent in its language


@dataclass(frozen=True)
class Suggestions:
    drafts: list[Suggestion]
    question: Message | None
    language: str  # the customer's language, "" when not known
    intent: str = ""  # the intent of the customer's message, "" when not known
    floor: float = SIMILARITY_FLOOR


def _customer_language(question: Message, conversation: Conversation) -> str:
    from apps.classification.language import UNDETERMINED

    language = question.language or conversation.language
    return "" if language == UNDETERMINED else language


def reply_suggestions(*, conversation: Conversation, membership, agent, limit: int = DRAFTS) -> Suggestions:
    """Up to `limit` drafts for a reply to the customer's latest message, best first.
    Raises EncoderUnavailable when the sentence encoder cannot run here."""
    question = (
        conversation.messages.filter(direction=Message.Direction.INBOUND)
        .exclude(text="")
        .order_by("-sent_at", "-pk")
        .first()
    )
    if question is None:
        return Suggestions(drafts=[], question=None, language="", intent=conversation.intent)
    language = _customer_language(question, conversation)
    intent = question.intent or conversation.intent
    vector = texts_encode([question.text])[0]
    values = variable_values(customer=conversation.customer, brand=conversation.brand, agent=agent)

    def draft(
        text: str, *, similarity: float, draft_language: str, draft_intent: str, **source
    ) -> Suggestion:
        same_language = bool(language) and draft_language == language
        same_intent = (draft_intent == intent) if intent and draft_intent else None
        filled = variables_fill(text, values)
        score = similarity
        return Suggestion(
            text=filled.text,
            similarity=similarity,
            language=draft_language,
            in_customer_language=same_language,
            filled=filled,
            score=score,
            intent=draft_intent,
            same_intent=same_intent,
            **source,
        )

    candidates = [
        draft(
            example.reply_text,
            similarity=1.0 - example.distance,
            draft_language=example.language,
            draft_intent=example.intent,
            source="resolution",
            title=str(example.conversation),
            conversation_id=example.conversation_id,
            question=example.question_text,
            brand=example.brand.name,
        )
        for example in resolution_examples_nearest(
            membership=membership, conversation=conversation, vector=vector, limit=CANDIDATES
        )
    ]
    saved_replies = saved_replies_for(conversation=conversation, agent=agent, membership=membership)
    saved_replies_embed(saved_replies=saved_replies)

    def saved_draft(reply, **reason):
        return draft(
            reply.body,
            similarity=1.0 - reply.distance,
            draft_language=reply.language,
            draft_intent=reply.intent,
            source="saved",
            title=reply.title,
            brand=reply.brand.name if reply.brand else "",
            **reason,
        )

    candidates += [
        saved_draft(reply)
        for reply in saved_replies_nearest(saved_replies=saved_replies, vector=vector, limit=CANDIDATES)
    ]
    if intent and language:
        # A saved reply written for this intent in this language answers it whatever its words: a reply
        # reads little like the question it answers, so its similarity says less than its labels.
        written_for = saved_replies.filter(intent=intent, language=language)
        candidates += [
            saved_draft(reply, written_for=True)
            for reply in saved_replies_nearest(saved_replies=written_for, vector=vector, limit=DRAFTS)
        ]
    drafts: dict[str, Suggestion] = {}

    # Same intent first, then those of an intent not known; never another known intent's: the words of a
    # question about a parcel are close to those of a request for parcel tracking, its answer is no answer.
    # Within each, the customer's language first: the encoder is multilingual, an answer in another language
    # may be as close in meaning, but the customer would have to read it in that one.
    def rank(c: Suggestion) -> tuple:
        # A draft in the customer's language before one written for any language, before another language.
        language_tier = 0 if c.in_customer_language else 1 if not c.language or c.language == "und" else 2
        return (c.same_intent is not True, language_tier, -c.score)

    for candidate in sorted(candidates, key=rank):
        above_floor = candidate.similarity >= SIMILARITY_FLOOR or candidate.written_for
        if above_floor and candidate.same_intent is not False:
            drafts.setdefault(" ".join(candidate.text.split()).casefold(), candidate)
    return Suggestions(
        drafts=list(drafts.values())[:limit], question=question, language=language, intent=intent
    )
