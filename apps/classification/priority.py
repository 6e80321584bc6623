"""One priority score, 0–100, from what a message says and who says it.

Pure Python (no Django). The parts, each bounded so that none can drown the others:

* sentiment: a confident negative weighs up to +25, a positive -5;
* intent: churn risk +30, complaint and purchase intent +20, question +10, feature request +5,
  spam -40 (labels an organisation adds itself weigh 0);
* the author's influence: +3 per tenfold followers, at most +15;
* the customer's value (a ``value`` / ``lifetime_value`` attribute, or a ``tier``): up to +10;
* waiting time: +2 an hour the conversation waits for the brand, at most +20 — added when the inbox
  is re-prioritised, not when the message is classified.
"""

from __future__ import annotations

import math

# The waiting bonus is the domain's vocabulary: conversations_reprioritise adds it in SQL.
from apps.conversations.labels import WAITING_MAX, WAITING_PER_HOUR

BASE = 20.0
INTENT_WEIGHTS = {
    "churn_risk": 30.0,
    "complaint": 20.0,
    "purchase_intent": 20.0,
    "question": 10.0,
    "feature_request": 5.0,
    "praise": 0.0,
    "other": 0.0,
    "spam": -40.0,
}
TIER_VALUES = {"platinum": 10.0, "vip": 10.0, "gold": 7.0, "silver": 4.0, "bronze": 2.0}


def customer_value(attributes: dict | None) -> float:
    """0–10 from a customer's CRM attributes: a money value (log scale) or a tier name."""
    attributes = attributes or {}
    for key in ("lifetime_value", "value", "ltv"):
        raw = attributes.get(key)
        try:
            amount = float(raw)
        except (TypeError, ValueError):
            continue
        return max(0.0, min(10.0, 2.5 * math.log10(1 + max(amount, 0.0)) - 2.5))
    tier = str(attributes.get("tier", "")).strip().lower()
    return TIER_VALUES.get(tier, 0.0)


def priority_score(
    *,
    sentiment: str = "",
    sentiment_score: float = 0.0,
    intent: str = "",
    followers: int | None = None,
    value: float = 0.0,
) -> tuple[float, dict[str, float]]:
    """The score (without waiting time) and its parts, so agents can see why."""
    parts = {"base": BASE}
    if sentiment == "negative":
        parts["sentiment"] = 25.0 * sentiment_score
    elif sentiment == "positive":
        parts["sentiment"] = -5.0 * sentiment_score
    if intent:
        parts["intent"] = INTENT_WEIGHTS.get(intent, 0.0)
    if followers:
        parts["influence"] = min(15.0, 3.0 * math.log10(1 + max(followers, 0)))
    if value:
        parts["customer_value"] = value
    total = max(0.0, min(100.0, sum(parts.values())))
    return round(total, 1), {k: round(v, 1) for k, v in parts.items() if v}


def waiting_bonus(hours: float) -> float:
    return max(0.0, min(WAITING_MAX, WAITING_PER_HOUR * hours))
