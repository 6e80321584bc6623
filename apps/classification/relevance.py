"""Is a keyword hit really about the brand? The default rule, before a brand has taught its own model.

Pure Python (no Django). "clean the windows in my office" is not about an operating system called
Windows; "clean Office off my Windows" is. Without examples from the brand, the evidence is how the
words are written:

* a message sent *to* the brand (its own channel, its @handle), or naming the brand's full name or a
  handle or #hashtag of it: about the brand (0.95);
* a keyword written as the brand writes it, with its capitals, away from the start of a sentence:
  probably the brand (0.8);
* a keyword the brand capitalises but the writer did not: probably the common word (0.25);
* anything else (start of a sentence, all capitals, scripts without case, no term found): no
  evidence either way (0.6, above the 0.5 line: a hit is kept unless there is a reason not to).

A brand's relevance model, once trained from its agents' corrections, is blended in on top.
"""

from __future__ import annotations

from .targets import occurrences

THRESHOLD = 0.5
TO_BRAND, STRONG, CASED, LOWERED, UNKNOWN = 0.95, 0.95, 0.8, 0.25, 0.6


def _at_sentence_start(text: str, position: int) -> bool:
    before = text[:position].rstrip(" \t\"'“«(")
    return not before or before[-1] in ".!?\n。！？"


def term_evidence(text: str, term: str) -> float | None:
    """The evidence of one configured term in the text (None: the term is not there)."""
    found = occurrences(text, term)
    if not found:
        return None
    best = None
    for position, written in found:
        bare = written.lstrip("@#")
        if written[:1] in "@#":
            score = STRONG
        elif term.strip() != term.strip().lower() and bare == term.strip():
            score = UNKNOWN if _at_sentence_start(text, position) or text.isupper() else CASED
        elif term.strip() != term.strip().lower() and bare == bare.lower():
            score = LOWERED
        else:
            score = UNKNOWN
        best = score if best is None else max(best, score)
    return best


def blended(rule: float, learnt: float | None) -> float:
    """The rule's score, with a brand's own relevance model (trained on its corrections) weighing most."""
    return rule if learnt is None else 0.3 * rule + 0.7 * learnt


def default_relevance(text: str, *, to_brand: bool, names: list[str], keywords: list[str]) -> float:
    """0–1: how likely the message is about the brand. ``names``: its full names and handles (strong
    evidence); ``keywords``: words people also use for other things."""
    if to_brand:
        return TO_BRAND
    for name in names:
        if occurrences(text, name):
            return STRONG
    scores = [s for s in (term_evidence(text, k) for k in keywords) if s is not None]
    return max(scores) if scores else UNKNOWN
