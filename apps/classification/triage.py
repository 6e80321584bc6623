"""Triage: must the brand answer this message? *reply* / *optional* / *no reply needed*, with the reasons.

Pure Python (no Django). A message is described by a few **signals** the product already has (where it was
said and to whom, what the classifier read in it, who wrote it and what the brand did in the thread); the
decision is a softmax over a linear function of them, so that it is a ``Head`` like the text classifiers':

* the **default** (``default_head``) has hand-set weights, the policy a community manager starts from
  (questions and complaints written to the brand need a reply; praise and chatter about it may get one;
  spam, talk of competitors and what the brand already answered need none). It works on day one;
* a brand's **adapter**, trained from what its agents did (answered, or closed without a reply) and from
  their one-click corrections, adds to the default's logits: the same versions, held-out figures and
  rollback as the label corrections (services.classifier_train).

The reasons an agent sees are the signals that pushed the chosen decision most, in words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .heads import Head

#: The feature spec of triage heads: the signals below, in this order (a new order needs a new name).
FEATURE_SPEC = "triage-signals-v1"
LABELS = ["reply", "optional", "no_reply"]
REPLY, OPTIONAL, NO_REPLY = LABELS

#: The signals, each a number in [0, 1], and how the agent reads one that weighs.
SIGNALS = {
    "bias": "",
    "to_brand": "written to the brand",
    "about_brand": "about the brand, not to it",
    "elsewhere": "about a competitor or the market",
    "off_topic": "probably not about the brand",
    "question": "a question",
    "complaint": "a complaint",
    "purchase": "wants to buy",
    "praise": "praise",
    "spam": "looks like spam",
    "negative": "negative",
    "reach": "author with a large audience",
    "value": "a valuable customer",
    "answered_before": "the brand answered this customer before",
    "known": "has written to the brand before",
    "answered": "the brand already answered",
    "others_answered": "someone else answered",
    "reply_to_brand": "a reply to the brand's own message",
    "private": "a private channel",
    "positive": "positive",
}
NAMES = list(SIGNALS)
INDEX = {name: i for i, name in enumerate(NAMES)}

# The default's weights: one row per decision, one column per signal (missing: 0).
_DEFAULT_WEIGHTS = {
    # Needs a reply: something asked or wrong (a question, a complaint, a wish to buy, anger), more so from
    # a wide audience or a valuable customer; less once answered, or when it is not about the brand.
    REPLY: {
        "bias": -2.0,
        "to_brand": 1.2,
        "about_brand": 0.2,
        "elsewhere": -2.0,
        "off_topic": -2.5,
        "question": 3.0,
        "complaint": 3.2,
        "purchase": 2.2,
        "praise": -1.0,
        "spam": -5.0,
        "negative": 1.5,
        "reach": 2.0,
        "value": 1.0,
        "answered_before": 0.5,
        "known": 0.3,
        "answered": -3.5,
        "others_answered": -1.0,
        "reply_to_brand": 0.8,
        "private": 0.8,
        "positive": -1.0,
    },
    # A reply may do good: praise, talk about the brand, a wide audience.
    OPTIONAL: {
        "to_brand": 0.6,
        "about_brand": 1.0,
        "elsewhere": -0.3,
        "off_topic": -1.0,
        "question": 0.6,
        "complaint": 0.3,
        "purchase": 0.8,
        "praise": 1.5,
        "spam": -3.0,
        "negative": 0.4,
        "reach": 1.0,
        "value": 0.6,
        "reply_to_brand": 0.6,
        "positive": 1.0,
    },
    # Nothing to say: spam, other brands' or the market's talk, what is not about the brand, what is answered.
    NO_REPLY: {
        "bias": 0.9,
        "elsewhere": 1.5,
        "off_topic": 2.0,
        "spam": 3.5,
        "answered": 2.5,
        "others_answered": 1.0,
    },
}


def default_head() -> Head:
    """The day-one decision as a head (built here, not from a file: its weights are the policy above)."""
    W = np.zeros((len(LABELS), len(NAMES)), dtype=np.float32)
    for row, label in enumerate(LABELS):
        for name, weight in _DEFAULT_WEIGHTS[label].items():
            W[row, INDEX[name]] = weight
    return Head(
        task="needs_reply",
        labels=list(LABELS),
        feature_spec=FEATURE_SPEC,
        W=W,
        b=np.zeros(len(LABELS), dtype=np.float32),
        meta={"name": "needs_reply default"},
    )


@dataclass
class Facts:
    """What is known of one message when it is triaged; ``signals()`` turns it into numbers."""

    level: str = ""  # the best listening level for the conversation's brand ("" when no query matched)
    relevance: float = 1.0  # how surely a listened mention is about the brand (1 when nothing was listened)
    private: bool = False  # a private channel (email, chat, messaging): written to the brand
    intent_scores: dict | None = None
    sentiment: str = ""
    sentiment_score: float = 0.0
    followers: int | None = None
    value: float = 0.0  # 0–10 (priority.customer_value)
    earlier_conversations: int = 0  # the customer's other conversations with the brand
    earlier_answered: int = 0  # of which the brand answered
    answered: bool = False  # the brand wrote in the thread after this message
    others_answered: bool = False  # someone else wrote in the thread after this message
    reply_to_brand: bool = False  # the brand wrote in the thread before this message

    def signals(self) -> dict[str, float]:
        intents = self.intent_scores or {}
        to_brand = self.private or self.level in ("to_brand", "")
        about = not to_brand and self.level == "about_brand"
        return {
            "bias": 1.0,
            "to_brand": 1.0 if to_brand else 0.0,
            "about_brand": 1.0 if about else 0.0,
            "elsewhere": 1.0 if self.level in ("competitor", "category") and not self.private else 0.0,
            "off_topic": round(1.0 - max(0.0, min(1.0, self.relevance)), 4),
            "question": round(intents.get("question", 0.0), 4),
            "complaint": round(intents.get("complaint", 0.0) + intents.get("churn_risk", 0.0), 4),
            "purchase": round(intents.get("purchase_intent", 0.0), 4),
            "praise": round(intents.get("praise", 0.0), 4),
            "spam": round(intents.get("spam", 0.0), 4),
            "negative": round(self.sentiment_score if self.sentiment == "negative" else 0.0, 4),
            # A tenfold audience is a step; a million followers is the top.
            "reach": round(min(1.0, math.log10(1 + max(self.followers or 0, 0)) / 6), 4),
            "value": round(max(0.0, min(1.0, self.value / 10)), 4),
            "answered_before": round(self.earlier_answered / self.earlier_conversations, 4)
            if self.earlier_conversations
            else 0.0,
            "known": round(min(1.0, math.log10(1 + self.earlier_conversations) / 2), 4),
            "answered": 1.0 if self.answered else 0.0,
            "others_answered": 1.0 if self.others_answered else 0.0,
            "reply_to_brand": 1.0 if self.reply_to_brand else 0.0,
            "private": 1.0 if self.private else 0.0,
            "positive": round(self.sentiment_score if self.sentiment == "positive" else 0.0, 4),
        }


def matrix(rows: list[dict[str, float]]) -> sp.csr_matrix:
    """The signals of many messages as the heads read them (a signal a row lacks counts 0)."""
    X = np.zeros((len(rows), len(NAMES)), dtype=np.float32)
    for i, row in enumerate(rows):
        for name, value in row.items():
            if name in INDEX:
                X[i, INDEX[name]] = value
    return sp.csr_matrix(X)


def reasons(heads: list[Head], signals: dict[str, float], label: str, limit: int = 3) -> list[str]:
    """The signals that pushed ``label`` most against the other decisions, in words (the whole chain's
    weights: a brand's adapter moves them)."""
    W = sum(head.W for head in heads)
    row = LABELS.index(label)
    others = [i for i in range(len(LABELS)) if i != row]
    x = np.array([signals.get(name, 0.0) for name in NAMES], dtype=np.float64)
    margin = (W[row] - W[others].mean(axis=0)) * x
    order = np.argsort(-margin)
    return [SIGNALS[NAMES[i]] for i in order[:limit] if margin[i] > 0.05 and SIGNALS[NAMES[i]]]


def decide(probabilities: np.ndarray) -> tuple[str, float]:
    """The decision and its confidence from one row of probabilities over LABELS."""
    best = int(np.argmax(probabilities))
    return LABELS[best], float(probabilities[best])


def rank(label: str) -> int:
    """How pressing a decision is (the conversation shows its most pressing open message's)."""
    return {REPLY: 3, OPTIONAL: 2, NO_REPLY: 1}.get(label, 0)
