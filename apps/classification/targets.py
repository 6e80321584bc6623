"""What a message says about each brand it names: the clauses that name it.

Pure Python (no Django). "I bought X and it broke; Y never let me down" is cut at sentence marks,
semicolons and contrast words (but, pero, mais, aber, mas, tapi, но, لكن, 但是...) into clauses; a
brand's segment is the clauses that name it. The sentiment head then reads each segment alone, so X
gets "negative" and Y "positive". A clause that names both (a comparison) gives both the same label:
a known limit, said in the model card.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Contrast words after which the writer often turns to another target, per language.
_CONTRAST = (
    "but", "however", "whereas", "while", "although", "though", "unlike",
    "pero", "sino", "mientras", "aunque",
    "mais", "alors que", "tandis que", "contrairement à",
    "aber", "doch", "jedoch", "während", "wohingegen",
    "mas", "porém", "enquanto", "embora",
    "ma", "mentre", "invece",
    "tapi", "tetapi", "namun", "sedangkan", "sementara",
    "но", "а", "однако", "зато", "тогда как",
    "لكن", "ولكن", "بينما", "بل",
)  # fmt: skip
_CJK_CONTRAST = ("但是", "可是", "不过", "但", "而")

_BOUNDARY = re.compile(
    r"[.!?;\n。！？；؟…]+\s*"
    r"|,?\s+\b(?:" + "|".join(re.escape(w) for w in sorted(_CONTRAST, key=len, reverse=True)) + r")\b\s*"
    r"|[，,]?(?:" + "|".join(_CJK_CONTRAST) + r")",
    re.IGNORECASE | re.UNICODE,
)


def clauses(text: str) -> list[str]:
    """The text cut into clauses (empty pieces dropped)."""
    return [piece.strip() for piece in _BOUNDARY.split(text or "") if piece and piece.strip()]


_WORD = r"[^\W\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"


def _term_pattern(term: str) -> re.Pattern | None:
    term = term.strip().lstrip("@#")
    if not term:
        return None
    if re.search(r"[\u3040-\u30ff\u3400-\u9fff]", term):  # CJK: no word boundaries
        return re.compile(re.escape(term))
    # Word boundaries, where CJK characters (written without spaces) count as boundaries too.
    return re.compile(rf"(?<!{_WORD})[@#]?" + re.escape(term) + rf"(?!{_WORD})", re.IGNORECASE)


def names(text: str, terms: Iterable[str]) -> bool:
    return any(p.search(text) for p in map(_term_pattern, terms) if p is not None)


def segment_for(text: str, terms: Iterable[str]) -> str:
    """The clauses of ``text`` that name one of ``terms``; the whole text if none does, or all do."""
    terms = [t for t in terms if t and t.strip()]
    pieces = clauses(text)
    if len(pieces) < 2 or not terms:
        return text
    naming = [piece for piece in pieces if names(piece, terms)]
    if not naming or len(naming) == len(pieces):
        return text
    return " ".join(naming)


def occurrences(text: str, term: str) -> list[tuple[int, str]]:
    """Where ``term`` stands in ``text``, as (position, the text as written there)."""
    pattern = _term_pattern(term)
    if pattern is None:
        return []
    return [(m.start(), m.group(0)) for m in pattern.finditer(text or "")]
