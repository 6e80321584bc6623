r"""The listening query language: how a brand says which messages are about it.

A query is parsed once into a small syntax tree (``parse``), checked (``validate``), and then either run in
Python against each ingested message (``compile_matcher`` / ``matches``) or translated for the database
(``to_postgres``) or the search index (``to_elasticsearch``). This module is pure Python: it does not import
Django, so it can be used anywhere (ingestion workers, scripts, tests).

The language
============

Words
    ``nimbus`` matches the whole word "nimbus", "Nimbus" or "NIMBUS" -- but not "nimbuses" or "supernimbus".
    Matching ignores case and accents: ``cafe`` matches "Café", ``straße`` matches "STRASSE", ``все``
    matches "всё", ``احب`` matches "أحب" (Arabic short vowels, tatweel and alef/hamza forms are folded too).
    Words are Unicode words: letters, digits, ``_`` and combining marks of any script, so Arabic, Cyrillic,
    Devanagari and so on work like Latin. A word typed with punctuation inside is a phrase of its parts:
    ``wi-fi`` is the same as ``"wi fi"`` and matches "Wi-Fi", "wi fi" and "wi/fi".

Chinese, Japanese, Korean (and Thai, Lao, Khmer, Myanmar)
    These scripts do not put spaces between words, so a word written in them matches anywhere inside the
    text: ``手机`` matches "我很喜欢Nimbus手机的拍照功能", ``삼성`` matches "삼성이". Latin words next to them
    still match as words: ``nimbus`` matches the same Chinese sentence.

"Exact phrases"
    ``"nimbus mobile"`` matches those words in that order, separated by any spaces or punctuation
    ("Nimbus Mobile", "nimbus, mobile"), with the same case and accent folding. Inside quotes ``#``, ``@``
    and other punctuation separate words; ``*`` is not allowed there. Curly quotes (“ ” „) work like ``"``.

Wildcards
    ``nimb*`` matches words that start with "nimb" ("nimbus", "Nimbuses"); ``colo*r`` matches "color" and
    "colour". ``*`` stands for any run of letters or digits (also none) inside one word. A wildcard needs at
    least 2 letters before the first ``*``; a bare ``*``, ``*bus`` and ``n*`` are errors, and so is a
    wildcard on Chinese/Japanese/Korean words (they already match inside longer text).

Hashtags and mentions
    ``#nimbus`` matches only the hashtag "#Nimbus" -- not the plain word "nimbus", and not "#nimbusmobile".
    ``@nimbusmobile`` matches only the mention "@NimbusMobile" (also "@nimbusmobile@mastodon.social"), not
    an e-mail address such as "help@nimbusmobile.com". Handles may contain ``.`` and ``-`` between letters
    (``@nimbus.bsky.social``; so ``@nimbus`` does not match "@nimbus.bsky.social"). Hashtags and mentions
    may follow Chinese or Japanese text directly ("今天的#话题#", "谢谢@Nimbus 的客服"). The other way round,
    a plain word looks inside hashtags and mentions too: ``nimbus`` matches "#nimbus" and "@nimbus",
    because those posts are about the brand as well.

Operators
    ``AND``, ``OR`` and ``NOT`` (upper case only: lower-case "and", "or", "not" are ordinary words),
    ``-word`` as a shorthand for ``NOT word`` (also ``-"a phrase"``, ``-(a OR b)``, ``-lang:en``), and
    parentheses for grouping. Words next to each other are joined by AND: ``nimbus phone`` is
    ``nimbus AND phone``. Precedence is NOT, then AND, then OR: ``a OR b c`` is ``a OR (b AND c)``, and
    ``NOT a b`` is ``(NOT a) AND b``.

Filters
    ``lang:es`` keeps messages whose language code is "es" or a regional form of it ("es-MX", "es_AR");
    ``lang:pt-BR`` keeps only "pt-BR". ``lang:(es OR pt)`` keeps either. ``language:`` is the same filter.
    ``channel:x``, ``channel:email``, ``channel:(x OR reddit)`` keep messages from those channel kinds.
    Filter names and values ignore case. Anything else written ``name:value`` (with a letters-only name) is
    an error; to search for text containing a colon, quote it: ``"re: nimbus"``.

A query must match something positively: a query that only excludes (``NOT nimbus``, ``-refund``) or only
filters (``lang:es``) is rejected, and so is an OR with such a branch (``nimbus OR NOT refund``) -- it
would pull in nearly every message. Combine them with what to look for: ``nimbus -refund lang:es``.

Limits: at most 2,000 characters and 20 levels of parentheses.

Examples::

    nimbus
    "nimbus mobile" OR @nimbusmobile OR #nimbus
    (nimbus OR nimb*) AND (battery OR charger) -refund
    nimbus (lang:es OR lang:pt) NOT channel:email
    microsoft OR (office AND windows)

Keyword queries are about words, not meaning: ``microsoft OR (office AND windows)`` matches
"clean the windows in my office". That is expected -- relevance classification, a later step, is what
decides whether a matched message is really about the brand.

Errors
======

``parse`` and ``validate`` raise ``QuerySyntaxError`` (a ``ValueError``) with ``.position`` -- the 0-based
character offset in the query where the problem is, for placing a caret in a form -- and ``.message``;
``str(error)`` is ``"position N: message"``. Rejected: an empty query; unbalanced parentheses, ``()``; an
operator with nothing on one side (``nimbus AND``, ``AND nimbus``, ``nimbus AND OR x``); an unterminated
quote or empty phrase; an unknown filter (``foo:bar``), a filter without a value or with a bad one
(``lang:english``); a bare or leading ``*``; a query that does not match something positively (above);
more than 2,000 characters or 20 levels of parentheses. ``parse(query, channels=...)`` also rejects
``channel:`` values outside the given channel kinds.

Running queries
===============

``compile_matcher(query)`` returns a function ``Document -> bool``. It parses once; each call folds the
message text once and answers every word and phrase with substring checks on that folded text, so a
20-word query over a 1,000-character message takes a few tens of microseconds.

``to_postgres(node)`` returns ``(sql, params)``: a WHERE fragment using ``unaccent(lower(text)) ~* %s`` with
PostgreSQL regular-expression word boundaries (``\m``, ``\M``), and a list of parameters holding every value
that came from the user. It needs the ``unaccent`` extension. PostgreSQL's folding is close to, not exactly,
the Python one (for example ``unaccent`` leaves some marks the Python side removes), so a database search
is a good approximation of ``matches``; the Arabic letter forms are handled in the generated pattern.

``to_elasticsearch(node)`` returns a ``bool`` query of ``match_phrase``, ``wildcard`` and ``term`` clauses.
It assumes the text field's analyser lower-cases and folds accents (e.g. ``icu_folding``); with the
standard analyser, ``#nimbus`` and ``@nimbus`` also match the plain word, since ``#`` and ``@`` are dropped.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "And",
    "Document",
    "Filter",
    "Hashtag",
    "Mention",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "QuerySyntaxError",
    "Term",
    "Wildcard",
    "compile_matcher",
    "fold",
    "matches",
    "parse",
    "to_elasticsearch",
    "to_postgres",
    "validate",
]

MAX_LENGTH = 2000
MAX_DEPTH = 20

# --------------------------------------------------------------------------------------------------------
# Text normalisation
# --------------------------------------------------------------------------------------------------------


def _is_word_char(ch: str) -> bool:
    """A letter, digit or ``_`` (what Python's ``\\w`` accepts) or a combining mark: words in Devanagari,
    Thai and other scripts with vowel signs are not cut into pieces."""
    return ch.isalnum() or ch == "_" or unicodedata.category(ch)[0] == "M"


def _word_runs(lo: int, hi: int) -> list[tuple[int, int]]:
    """Runs of word characters in [lo, hi); unassigned code points join the run before them."""
    runs: list[tuple[int, int]] = []
    start = None
    word = False
    for cp in range(lo, hi):
        ch = chr(cp)
        if unicodedata.category(ch) not in ("Cn", "Cs"):
            word = _is_word_char(ch)
        if word and start is None:
            start = cp
        elif not word and start is not None:
            runs.append((start, cp - 1))
            start = None
    if start is not None:
        runs.append((start, hi - 1))
    return runs


def _gaps(runs: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """The code points of [lo, hi] outside ``runs``."""
    gaps, at = [], lo
    for a, b in runs:
        if b < lo:
            continue
        if a > at:
            gaps.append((at, min(a - 1, hi)))
        at = max(at, b + 1)
    if at <= hi:
        gaps.append((at, hi))
    return [(a, b) for a, b in gaps if a <= b]


def _class(runs: list[tuple[int, int]]) -> str:
    """Runs of code points as the body of a regex character class."""
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in runs
    )


_BMP_WORD_RUNS = _word_runs(0, 0x10000)
# Word characters as an explicit regex class body: explicit ranges are much faster than \w plus marks.
_W = _class(_BMP_WORD_RUNS + _word_runs(0x10000, 0x20000)) + "\U00020000-\U0003ffff\U000e0100-\U000e01ef"

# Scripts written without spaces between words: a word in them matches as a substring.
_NS = (
    "\u0e01-\u0e3a\u0e40-\u0e4e\u0e50-\u0e59"  # Thai
    "\u0e81-\u0edf"  # Lao
    "\u1000-\u1049\u1050-\u109f"  # Myanmar
    "\u1100-\u11ff"  # Hangul Jamo
    "\u1780-\u17d3\u17dc\u17dd\u17e0-\u17e9"  # Khmer
    "\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3038-\u303c"  # CJK iteration marks, Hangzhou numerals
    "\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff"  # Hiragana, Katakana (not the middle dot ・)
    "\u3105-\u312f\u3131-\u318e\u31a0-\u31bf\u31f0-\u31ff"  # Bopomofo, Hangul compatibility jamo
    "\u3400-\u4dbf\u4e00-\u9fff"  # CJK unified ideographs
    "\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff"  # Hangul
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions B-H
)

# Removed when folding: accents and other diacritics (Latin, Greek, Cyrillic...), Arabic harakat and
# tatweel, Hebrew points, soft hyphen and zero-width characters. The breve (U+0306) is removed separately,
# except on и: Russian й stays a letter of its own, while ё folds to е.
_STRIP_RE = re.compile(
    "[\u0300-\u0305\u0307-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed\u0640"
    "\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
    "\u00ad\u200b-\u200d\u2060\ufeff]+"
)
_BREVE_RE = re.compile("(?<!\u0438)\u0306")
# Arabic letter forms folded as search engines usually do (after NFKD has split أ إ آ into ا + hamza/madda).
_ARABIC_MAP = str.maketrans({"\u0649": "\u064a", "\u0629": "\u0647", "\u0671": "\u0627"})
_ARABIC_RE = re.compile("[\u0649\u0629\u0671]")

# Separators: any run of non-word characters becomes one space. ASCII text goes through str.translate
# (which has an ASCII fast path); other text through one regex over the BMP, plus -- only where present --
# a pass for characters outside the BMP (emoji are separators, the rarer letters there are not).
_ASCII_SEP = str.maketrans({chr(c): " " for c in range(128) if not _is_word_char(chr(c))})
_SEP_RE = re.compile("[" + _class(_gaps(_BMP_WORD_RUNS, 0, 0xFFFF)) + "]+")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]+")
_SPECIAL_RE = re.compile(f"[{_NS}\\U00010000-\\U0010ffff]")  # CJK or outside the BMP: the slower path
_NS_RE = re.compile(f"[{_NS}]")
_TOKEN_RE = re.compile(f"[{_NS}]+|[^{_NS} ]+")
_WORDS_ONLY_RE = re.compile(f"[{_W}]+")

# A hashtag or mention starts after a non-word character, or right after CJK text ("今天的#话题#").
_HASHTAG_RE = re.compile(f"(?:(?<=[{_NS}])|(?<![{_W}#@&]))#([{_W}]+)")
_HANDLE = f"[{_W}]+(?:[.\\-][{_W}]+)*"
_MENTION_RE = re.compile(f"(?:(?<=[{_NS}])|(?<![{_W}@]))@({_HANDLE})")
_HANDLE_RE = re.compile(_HANDLE)


def fold(text: str) -> str:
    """Lower-case and strip accents the way queries and messages are compared ("Café" -> "cafe")."""
    if text.isascii():
        return text.lower()
    text = _STRIP_RE.sub("", unicodedata.normalize("NFKD", text).casefold())
    if "\u0306" in text:
        text = _BREVE_RE.sub("", text)
    if _ARABIC_RE.search(text):
        text = text.translate(_ARABIC_MAP)
    return unicodedata.normalize("NFC", text)


def _astral_separators(match: re.Match) -> str:
    return "".join(ch if _is_word_char(ch) else " " for ch in match.group())


def _canonical(folded: str) -> str:
    """Folded text as its words separated by single spaces, with a space at each end (" a b c ").

    Runs of Chinese/Japanese/Korean/Thai... characters are cut off from the letters around them, so that
    "nimbus" is a word of "买了nimbus手机".
    """
    if folded.isascii():
        return f" {' '.join(folded.translate(_ASCII_SEP).split())} "
    text = _SEP_RE.sub(" ", folded)
    if _SPECIAL_RE.search(text):
        text = _ASTRAL_RE.sub(_astral_separators, text)
        return f" {' '.join(_TOKEN_RE.findall(text))} "
    return f" {text} "


def _is_ns(word: str) -> bool:
    return bool(_NS_RE.match(word))


# --------------------------------------------------------------------------------------------------------
# Syntax tree
# --------------------------------------------------------------------------------------------------------


class Node:
    """A node of a parsed query. Every node has ``pos``: where it starts in the query (0-based)."""

    __slots__ = ()
    pos: int


def _pos():
    return field(default=0, compare=False, repr=False, kw_only=True)


def _quote_group(node: Node, inside: type) -> str:
    return f"({node})" if isinstance(node, And | Or) and not isinstance(node, inside) else str(node)


@dataclass(frozen=True, slots=True)
class Term(Node):
    """One folded word: ``nimbus``."""

    text: str
    pos: int = _pos()

    def __str__(self):
        return self.text


@dataclass(frozen=True, slots=True)
class Phrase(Node):
    """Folded words in order: ``"nimbus mobile"``."""

    words: tuple[str, ...]
    pos: int = _pos()

    def __str__(self):
        return '"' + " ".join(self.words) + '"'


@dataclass(frozen=True, slots=True)
class Wildcard(Node):
    """A folded word pattern where ``*`` is any run of word characters: ``nimb*``, ``colo*r``."""

    pattern: str
    pos: int = _pos()

    def __str__(self):
        return self.pattern


@dataclass(frozen=True, slots=True)
class Hashtag(Node):
    """A hashtag, folded, without the ``#``."""

    tag: str
    pos: int = _pos()

    def __str__(self):
        return f"#{self.tag}"


@dataclass(frozen=True, slots=True)
class Mention(Node):
    """A mention, folded, without the ``@``."""

    handle: str
    pos: int = _pos()

    def __str__(self):
        return f"@{self.handle}"


@dataclass(frozen=True, slots=True)
class Filter(Node):
    """``lang:es`` / ``channel:(x OR reddit)``: name is "lang" or "channel"; values are lower-case."""

    name: str
    values: tuple[str, ...]
    pos: int = _pos()

    def __str__(self):
        if len(self.values) == 1:
            return f"{self.name}:{self.values[0]}"
        return f"{self.name}:(" + " OR ".join(self.values) + ")"


@dataclass(frozen=True, slots=True)
class And(Node):
    children: tuple[Node, ...]
    pos: int = _pos()

    def __str__(self):
        return " AND ".join(_quote_group(c, And) for c in self.children)


@dataclass(frozen=True, slots=True)
class Or(Node):
    children: tuple[Node, ...]
    pos: int = _pos()

    def __str__(self):
        return " OR ".join(_quote_group(c, Or) for c in self.children)


@dataclass(frozen=True, slots=True)
class Not(Node):
    child: Node
    pos: int = _pos()

    def __str__(self):
        return f"NOT {_quote_group(self.child, type(None))}"


_TEXT_NODES = (Term, Phrase, Wildcard, Hashtag, Mention)

# --------------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------------


class QuerySyntaxError(ValueError):
    """A query that cannot be used; ``position`` is the 0-based character offset of the problem."""

    def __init__(self, position: int, message: str):
        super().__init__(f"position {position}: {message}")
        self.position = position
        self.message = message


# --------------------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------------------

_QUOTES = '"\u201c\u201d\u201e'
_OPERATORS = {"AND", "OR", "NOT"}
_FILTER_NAMES = {"lang": "lang", "language": "lang", "channel": "channel"}
_FILTER_RE = re.compile(r"([A-Za-z_]+):(.*)", re.DOTALL)
_LANG_RE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
_CHANNEL_RE = re.compile(r"[a-z0-9_]+")
_SYMBOL_HINTS = {"&&": "AND", "&": "AND", "||": "OR", "|": "OR", "!": "NOT", "~": "NOT"}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "(", ")", "AND", "OR", "NOT", "-", "PHRASE", "WORD", "FILTER", "EOF"
    text: str
    pos: int
    end: int


def _tokenize(query: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    n = len(query)
    i = 0
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(_Tok(ch, ch, i, i + 1))
            i += 1
        elif ch in _QUOTES:
            j = next((k for k in range(i + 1, n) if query[k] in _QUOTES), -1)
            if j < 0:
                raise QuerySyntaxError(i, f"unterminated quote: the {ch} at position {i} is never closed")
            tokens.append(_Tok("PHRASE", query[i + 1 : j], i, j + 1))
            i = j + 1
        elif ch == "-":
            if i + 1 >= n or query[i + 1].isspace() or query[i + 1] == ")":
                raise QuerySyntaxError(
                    i, "'-' must be followed directly by what to exclude, without a space (e.g. -refund)"
                )
            tokens.append(_Tok("-", ch, i, i + 1))
            i += 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in "()" and query[j] not in _QUOTES:
                j += 1
            word = query[i:j]
            if word in _OPERATORS:
                tokens.append(_Tok(word, word, i, j))
            elif _FILTER_RE.fullmatch(word):
                tokens.append(_Tok("FILTER", word, i, j))
            else:
                tokens.append(_Tok("WORD", word, i, j))
            i = j
    tokens.append(_Tok("EOF", "", n, n))
    return tokens


# --------------------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------------------

_OPERAND_START = {"WORD", "PHRASE", "FILTER", "(", "NOT", "-"}
_OPERATOR_KINDS = {"AND", "OR", "NOT", "-"}


def _split_words(folded: str) -> list[str]:
    return _canonical(folded).split()


def _word_node(raw: str, pos: int) -> Node:
    if raw[0] == "#":
        body = fold(raw[1:])
        if not body:
            raise QuerySyntaxError(pos, "a hashtag needs a name after '#' (e.g. #nimbus)")
        if "*" in body:
            raise QuerySyntaxError(pos + raw.index("*"), "wildcards cannot be used in hashtags")
        if not _WORDS_ONLY_RE.fullmatch(body):
            raise QuerySyntaxError(pos, f"hashtag {raw!r} may contain only letters, digits and '_'")
        return Hashtag(body, pos=pos)
    if raw[0] == "@":
        body = fold(raw[1:])
        if not body:
            raise QuerySyntaxError(pos, "a mention needs a name after '@' (e.g. @nimbusmobile)")
        if "*" in body:
            raise QuerySyntaxError(pos + raw.index("*"), "wildcards cannot be used in mentions")
        if not _HANDLE_RE.fullmatch(body):
            raise QuerySyntaxError(
                pos, f"mention {raw!r} may contain only letters, digits, '_' and '.' or '-' between them"
            )
        return Mention(body, pos=pos)
    if "*" in raw:
        return _wildcard_node(raw, pos)
    words = _split_words(fold(raw))
    if not words:
        if raw in _SYMBOL_HINTS:
            raise QuerySyntaxError(pos, f"{raw!r} is not an operator here; write {_SYMBOL_HINTS[raw]}")
        raise QuerySyntaxError(pos, f"{raw!r} has no letters or digits to search for")
    if len(words) == 1:
        return Term(words[0], pos=pos)
    return Phrase(tuple(words), pos=pos)


def _wildcard_node(raw: str, pos: int) -> Node:
    star = raw.index("*")
    if raw.strip("*") == "":
        raise QuerySyntaxError(
            pos, "'*' on its own would match every message; put it at the end of a word (e.g. nimb*)"
        )
    if star == 0:
        raise QuerySyntaxError(pos, "a wildcard cannot start with '*'; start with at least 2 letters (nimb*)")
    pattern = re.sub(r"\*+", "*", fold(raw))
    letters = pattern.replace("*", "")
    if not _WORDS_ONLY_RE.fullmatch(letters):
        raise QuerySyntaxError(pos, f"wildcard {raw!r} may contain only letters, digits and '*'")
    if _NS_RE.search(letters):
        raise QuerySyntaxError(
            pos + star,
            "wildcards are not needed with Chinese, Japanese or Korean words: they already match inside "
            "longer text",
        )
    if len(pattern.split("*")[0]) < 2:
        raise QuerySyntaxError(pos + star, "a wildcard needs at least 2 letters before '*' (e.g. nimb*)")
    return Wildcard(pattern, pos=pos)


def _filter_value(name: str, raw: str, pos: int, channels: Collection[str] | None) -> str:
    value = raw.lower()
    if name == "lang":
        value = value.replace("_", "-")
        if not _LANG_RE.fullmatch(value):
            raise QuerySyntaxError(
                pos, f"{raw!r} is not a language code; use a code such as es, pt or pt-BR (lang:es)"
            )
        return value
    if not _CHANNEL_RE.fullmatch(value):
        raise QuerySyntaxError(pos, f"{raw!r} is not a channel kind (e.g. channel:email, channel:x)")
    if channels is not None and value not in channels:
        known = ", ".join(sorted(channels))
        raise QuerySyntaxError(pos, f"unknown channel {raw!r}; the channels are: {known}")
    return value


class _Parser:
    def __init__(self, query: str, channels: Collection[str] | None):
        self.tokens = _tokenize(query)
        self.k = 0
        self.depth = 0
        self.channels = None if channels is None else {c.lower() for c in channels}

    def peek(self) -> _Tok:
        return self.tokens[self.k]

    def take(self) -> _Tok:
        tok = self.tokens[self.k]
        self.k += 1
        return tok

    def previous(self) -> _Tok | None:
        return self.tokens[self.k - 1] if self.k else None

    def parse(self) -> Node:
        node = self.parse_or()
        tok = self.peek()
        if tok.kind == ")":
            raise QuerySyntaxError(
                tok.pos, f"unbalanced parentheses: ')' at position {tok.pos} has no matching '('"
            )
        assert tok.kind == "EOF", tok
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.peek().kind == "OR":
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(_flatten(items, Or), pos=items[0].pos)

    def parse_and(self) -> Node:
        items = [self.parse_unary()]
        while True:
            kind = self.peek().kind
            if kind == "AND":
                self.take()
            elif kind not in _OPERAND_START:
                break
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else And(_flatten(items, And), pos=items[0].pos)

    def parse_unary(self) -> Node:
        nots = []
        while self.peek().kind in ("NOT", "-"):
            nots.append(self.take())
        node = self.parse_primary()
        if len(nots) % 2:
            return Not(node, pos=nots[0].pos)
        return node

    def parse_primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "WORD":
            self.take()
            return _word_node(tok.text, tok.pos)
        if tok.kind == "PHRASE":
            self.take()
            return self.phrase(tok)
        if tok.kind == "FILTER":
            self.take()
            return self.filter(tok)
        if tok.kind == "(":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QuerySyntaxError(
                    tok.pos, f"the query is nested too deeply (more than {MAX_DEPTH} levels of parentheses)"
                )
            node = self.parse_or()
            close = self.peek()
            if close.kind != ")":
                raise QuerySyntaxError(
                    tok.pos, f"unbalanced parentheses: '(' at position {tok.pos} is never closed"
                )
            self.take()
            self.depth -= 1
            return node
        raise self.missing_operand(tok)

    def missing_operand(self, tok: _Tok) -> QuerySyntaxError:
        prev = self.previous()
        if prev is None and tok.kind == "EOF":
            return QuerySyntaxError(0, "the query is empty")
        if prev is not None and prev.kind in _OPERATOR_KINDS:
            if tok.kind in ("AND", "OR"):
                return QuerySyntaxError(
                    tok.pos, f"'{tok.text}' cannot follow '{prev.text}': something to search for is missing"
                )
            where = "at the end of the query" if tok.kind == "EOF" else "before ')'"
            return QuerySyntaxError(
                prev.pos, f"dangling operator: '{prev.text}' {where} needs a word, phrase or group after it"
            )
        if tok.kind in ("AND", "OR"):
            return QuerySyntaxError(tok.pos, f"'{tok.text}' needs a word, phrase or group before it")
        if tok.kind == ")" and prev is not None and prev.kind == "(":
            return QuerySyntaxError(prev.pos, "empty parentheses: '()' contain nothing to search for")
        if tok.kind == ")":
            return QuerySyntaxError(
                tok.pos, f"unbalanced parentheses: ')' at position {tok.pos} has no matching '('"
            )
        assert prev is not None and prev.kind == "(", (prev, tok)
        return QuerySyntaxError(
            prev.pos, f"unbalanced parentheses: '(' at position {prev.pos} is never closed"
        )

    def phrase(self, tok: _Tok) -> Node:
        if "*" in tok.text:
            raise QuerySyntaxError(
                tok.pos + 1 + tok.text.index("*"),
                'wildcards do not work inside quotes; use them outside ("nimbus" mob*)',
            )
        words = _split_words(fold(tok.text))
        if not words:
            raise QuerySyntaxError(tok.pos, "empty phrase: the quotes contain no letters or digits")
        return Phrase(tuple(words), pos=tok.pos)

    def filter(self, tok: _Tok) -> Node:
        m = _FILTER_RE.fullmatch(tok.text)
        raw_name, raw_value = m.group(1), m.group(2)
        name = _FILTER_NAMES.get(raw_name.lower())
        if name is None:
            raise QuerySyntaxError(
                tok.pos,
                f"unknown filter {raw_name!r}: the filters are lang: and channel: "
                f'(to search for the text, put it in double quotes: "{tok.text}")',
            )
        value_pos = tok.pos + len(raw_name) + 1
        if raw_value:
            return Filter(name, (_filter_value(name, raw_value, value_pos, self.channels),), pos=tok.pos)
        opening = self.peek()
        if opening.kind != "(" or opening.pos != tok.end:
            raise QuerySyntaxError(value_pos, f"filter '{raw_name}:' needs a value (e.g. {name}:es)")
        self.take()
        values: list[str] = []
        while True:
            item = self.take()
            if item.kind == "EOF":
                raise QuerySyntaxError(
                    opening.pos, f"unbalanced parentheses: '(' at position {opening.pos} is never closed"
                )
            if item.kind == ")" and not values:
                raise QuerySyntaxError(opening.pos, f"filter '{raw_name}:()' needs at least one value")
            if item.kind != "WORD":
                raise QuerySyntaxError(
                    item.pos, f"inside {raw_name}:( ... ) only values separated by OR are allowed"
                )
            values.append(_filter_value(name, item.text, item.pos, self.channels))
            after = self.take()
            if after.kind == ")":
                break
            if after.kind == "EOF":
                raise QuerySyntaxError(
                    opening.pos, f"unbalanced parentheses: '(' at position {opening.pos} is never closed"
                )
            if after.kind != "OR":
                raise QuerySyntaxError(
                    after.pos, f"inside {raw_name}:( ... ) only values separated by OR are allowed"
                )
        return Filter(name, tuple(dict.fromkeys(values)), pos=tok.pos)


def _flatten(items: list[Node], kind: type) -> tuple[Node, ...]:
    out: list[Node] = []
    for item in items:
        out.extend(item.children if isinstance(item, kind) else (item,))
    return tuple(out)


def _not_positive(node: Node) -> Node | None:
    """The part of ``node`` that can match a message without any word, phrase, hashtag or mention."""
    if isinstance(node, _TEXT_NODES):
        return None
    if isinstance(node, Filter | Not):
        return node
    if isinstance(node, And):
        return None if any(_not_positive(c) is None for c in node.children) else node
    if isinstance(node, Or):
        return next((bad for c in node.children if (bad := _not_positive(c)) is not None), None)
    raise TypeError(f"not a query node: {node!r}")


def parse(query: str, *, channels: Collection[str] | None = None) -> Node:
    """Parse and check a query; raises ``QuerySyntaxError``.

    ``channels``, if given, is the set of known channel kinds; ``channel:`` values outside it are errors.
    """
    if not isinstance(query, str):
        raise TypeError("a query is a string")
    if len(query) > MAX_LENGTH:
        raise QuerySyntaxError(
            MAX_LENGTH, f"the query is too long ({len(query)} characters; the limit is {MAX_LENGTH})"
        )
    if not query.strip():
        raise QuerySyntaxError(0, "the query is empty")
    node = _Parser(query, channels).parse()
    bad = _not_positive(node)
    if bad is not None:
        if isinstance(bad, Not):
            why = f"'{bad}' only excludes messages; add what to look for (e.g. nimbus NOT refund)"
        elif isinstance(bad, Filter):
            why = f"the filter {bad} only narrows the search; add a word, phrase, hashtag or mention to it"
        else:
            why = "this part only filters or excludes messages; add a word, phrase, hashtag or mention to it"
        raise QuerySyntaxError(bad.pos, f"a query must match something positively: {why}")
    return node


def validate(query: str, *, channels: Collection[str] | None = None) -> None:
    """Raise ``QuerySyntaxError`` if ``query`` is not a valid listening query."""
    parse(query, channels=channels)


# --------------------------------------------------------------------------------------------------------
# Matching in Python
# --------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Document:
    """What a query is matched against: a message's text, language code and channel kind."""

    text: str
    language: str = ""
    channel: str = ""


class _Prepared:
    """A document folded once for all the leaves of one query."""

    __slots__ = ("canonical", "channel", "hashtags", "language", "mentions")

    def __init__(self, doc: Document, needs: frozenset[str]):
        folded = fold(doc.text)
        self.canonical = _canonical(folded)
        self.hashtags = set(_HASHTAG_RE.findall(folded)) if "hashtag" in needs and "#" in folded else ()
        self.mentions = set(_MENTION_RE.findall(folded)) if "mention" in needs and "@" in folded else ()
        self.language = doc.language.lower().replace("_", "-") if "lang" in needs else ""
        self.channel = doc.channel.lower() if "channel" in needs else ""


def _needle(words: tuple[str, ...]) -> str | re.Pattern:
    """What to look for in the canonical text: a plain string, or a regex when CJK words meet."""
    left = "" if _is_ns(words[0]) else " "
    right = "" if _is_ns(words[-1]) else " "
    if not any(_is_ns(a) and _is_ns(b) for a, b in zip(words, words[1:], strict=False)):
        return left + " ".join(words) + right
    # In the text, two CJK words may be written together or apart ("手机很好", "手机，很好").
    pattern = re.escape(words[0])
    for a, b in zip(words, words[1:], strict=False):
        pattern += (" ?" if _is_ns(a) and _is_ns(b) else " ") + re.escape(b)
    return re.compile(re.escape(left) + pattern + re.escape(right))


def _compile_wildcard(pattern: str) -> Callable[[_Prepared], bool]:
    pieces = pattern.split("*")
    if len(pieces) == 2 and pieces[1] == "":
        needle = " " + pieces[0]
        return lambda d: needle in d.canonical
    first, last, middle = pieces[0], pieces[-1], pieces[1:-1]
    candidates = re.compile(" " + re.escape(first) + "([^ ]*)")
    min_rest = len(last) + sum(map(len, middle))

    def match(d: _Prepared) -> bool:
        # Linear-time glob on each word that starts right: no regex backtracking on hostile patterns.
        for rest in candidates.findall(d.canonical):
            if len(rest) < min_rest or not rest.endswith(last):
                continue
            at, end = 0, len(rest) - len(last)
            for piece in middle:
                at = rest.find(piece, at, end)
                if at < 0:
                    break
                at += len(piece)
            else:
                return True
        return False

    return match


def _compile(node: Node) -> Callable[[_Prepared], bool]:
    if isinstance(node, Term | Phrase):
        needle = _needle((node.text,) if isinstance(node, Term) else node.words)
        if isinstance(needle, str):
            return lambda d: needle in d.canonical
        search = needle.search
        return lambda d: search(d.canonical) is not None
    if isinstance(node, Wildcard):
        return _compile_wildcard(node.pattern)
    if isinstance(node, Hashtag):
        tag = node.tag
        return lambda d: tag in d.hashtags
    if isinstance(node, Mention):
        handle = node.handle
        return lambda d: handle in d.mentions
    if isinstance(node, Filter):
        values = frozenset(node.values)
        if node.name == "channel":
            return lambda d: d.channel in values
        prefixes = tuple(v + "-" for v in node.values)
        return lambda d: d.language in values or d.language.startswith(prefixes)
    if isinstance(node, Not):
        inner = _compile(node.child)
        return lambda d: not inner(d)
    if isinstance(node, And | Or):
        # Filters first: they are the cheapest checks.
        parts = tuple(_compile(c) for c in sorted(node.children, key=lambda c: not isinstance(c, Filter)))
        if isinstance(node, And):

            def all_of(d: _Prepared) -> bool:
                # A plain loop: measurably faster than all() over a generator on this hot path.
                for part in parts:  # noqa: SIM110
                    if not part(d):
                        return False
                return True

            return all_of

        def any_of(d: _Prepared) -> bool:
            for part in parts:  # noqa: SIM110
                if part(d):
                    return True
            return False

        return any_of
    raise TypeError(f"not a query node: {node!r}")


def _needs(node: Node) -> set[str]:
    if isinstance(node, Hashtag):
        return {"hashtag"}
    if isinstance(node, Mention):
        return {"mention"}
    if isinstance(node, Filter):
        return {node.name}
    if isinstance(node, Not):
        return _needs(node.child)
    if isinstance(node, And | Or):
        return set().union(*map(_needs, node.children))
    return set()


def compile_matcher(
    query: str | Node, *, channels: Collection[str] | None = None
) -> Callable[[Document], bool]:
    """Parse ``query`` once and return a fast ``Document -> bool`` function."""
    node = query if isinstance(query, Node) else parse(query, channels=channels)
    needs = frozenset(_needs(node))
    predicate = _compile(node)

    def matcher(doc: Document) -> bool:
        return predicate(_Prepared(doc, needs))

    matcher.node = node  # type: ignore[attr-defined]
    return matcher


@functools.lru_cache(maxsize=256)
def _cached_matcher(query: str | Node) -> Callable[[Document], bool]:
    return compile_matcher(query)


def matches(node_or_query: Node | str, doc: Document) -> bool:
    """Whether ``doc`` matches; compiled matchers are cached, but prefer ``compile_matcher`` in loops."""
    return _cached_matcher(node_or_query)(doc)


# --------------------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------------------

_PG_META = set("\\^$.|?*+()[]{}")
_PG_NS = f"[{_NS}]"
_PG_WORD_START = f"(?:\\m|(?<={_PG_NS}))"
_PG_WORD_END = f"(?:\\M|(?={_PG_NS}))"
_ARABIC_MARKS = "[\u0610-\u061a\u064b-\u065f\u0670\u0640]*"
_PG_EQUIVALENT = {
    "\u0627": "[\u0627\u0623\u0625\u0622\u0671]",  # ا أ إ آ ٱ
    "\u064a": "[\u064a\u0649\u0626]",  # ي ى ئ
    "\u0647": "[\u0647\u0629]",  # ه ة
    "\u0648": "[\u0648\u0624]",  # و ؤ
}
_COLUMN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")


def _pg_literal(word: str) -> str:
    out = []
    for ch in word:
        if ch in _PG_META:
            out.append("\\" + ch)
        elif ch in _PG_EQUIVALENT:
            out.append(_PG_EQUIVALENT[ch] + _ARABIC_MARKS)
        elif "\u0620" <= ch <= "\u064a":
            out.append(ch + _ARABIC_MARKS)  # text in the database may still carry short vowels
        else:
            out.append(ch)
    return "".join(out)


def _pg_words(words: tuple[str, ...], wildcard: bool = False) -> str:
    literal = (lambda w: "[[:alnum:]_]*".join(map(_pg_literal, w.split("*")))) if wildcard else _pg_literal
    pattern = "" if _is_ns(words[0]) else _PG_WORD_START
    pattern += literal(words[0])
    for a, b in zip(words, words[1:], strict=False):
        pattern += ("\\W*" if _is_ns(a) or _is_ns(b) else "\\W+") + literal(b)
    return pattern + ("" if _is_ns(words[-1]) else _PG_WORD_END)


def to_postgres(
    node: Node | str,
    *,
    text_column: str = "text",
    language_column: str = "language",
    channel_column: str = "channel_kind",
    extra_text_column: str | None = None,
) -> tuple[str, list]:
    """Translate a query into a PostgreSQL WHERE fragment and its parameters (``%s`` placeholders).

    Every value that comes from the query is a parameter; the SQL string holds only the column names
    (which must be plain identifiers, optionally ``table.column``), operators and placeholders.
    `extra_text_column` is text read as following the text (a message's image_text, as in
    Message.searchable_text).
    """
    for column in (text_column, language_column, channel_column, extra_text_column or "text"):
        if not _COLUMN_RE.fullmatch(column):
            raise ValueError(f"not a plain column name: {column!r}")
    if isinstance(node, str):
        node = parse(node)
    params: list = []
    if extra_text_column:
        text_column = f"({text_column} || E'\\n' || {extra_text_column})"
    text_sql = f"unaccent(lower({text_column})) ~* %s"

    def build(n: Node) -> str:
        if isinstance(n, Term):
            params.append(_pg_words((n.text,)))
            return text_sql
        if isinstance(n, Phrase):
            params.append(_pg_words(n.words))
            return text_sql
        if isinstance(n, Wildcard):
            params.append(_pg_words((n.pattern,), wildcard=True))
            return text_sql
        if isinstance(n, Hashtag):
            params.append(f"(?:^|[^[:alnum:]_#@&]|(?<={_PG_NS}))#{_pg_literal(n.tag)}(?![[:alnum:]_])")
            return text_sql
        if isinstance(n, Mention):
            params.append(
                f"(?:^|[^[:alnum:]_@]|(?<={_PG_NS}))@{_pg_literal(n.handle)}(?![[:alnum:]_]|[.-][[:alnum:]_])"
            )
            return text_sql
        if isinstance(n, Filter):
            if n.name == "lang":
                codes = (_pg_literal(v).replace("-", "[-_]") for v in n.values)  # "pt-BR" or "pt_BR"
                params.append("^(?:" + "|".join(codes) + ")(?:[-_]|$)")
                return f"{language_column} ~* %s"
            params.extend(n.values)
            return f"{channel_column} IN (" + ", ".join(["%s"] * len(n.values)) + ")"
        if isinstance(n, Not):
            return f"NOT ({build(n.child)})"
        if isinstance(n, And | Or):
            joiner = " AND " if isinstance(n, And) else " OR "
            return "(" + joiner.join(build(c) for c in n.children) + ")"
        raise TypeError(f"not a query node: {n!r}")

    return build(node), params


# --------------------------------------------------------------------------------------------------------
# Elasticsearch
# --------------------------------------------------------------------------------------------------------


def to_elasticsearch(
    node: Node | str,
    *,
    text_field: str = "text",
    language_field: str = "language",
    channel_field: str = "channel_kind",
) -> dict:
    """Translate a query into an Elasticsearch ``bool`` query."""
    if isinstance(node, str):
        node = parse(node)

    def build(n: Node) -> dict:
        if isinstance(n, Term | Phrase):
            words = (n.text,) if isinstance(n, Term) else n.words
            return {"match_phrase": {text_field: " ".join(words)}}
        if isinstance(n, Wildcard):
            return {"wildcard": {text_field: {"value": n.pattern, "case_insensitive": True}}}
        if isinstance(n, Hashtag | Mention):
            return {"match_phrase": {text_field: str(n)}}
        if isinstance(n, Filter):
            if n.name == "channel":
                return {"terms": {channel_field: list(n.values)}}
            should: list[dict] = []
            for code in n.values:
                for value in dict.fromkeys((code, code.replace("-", "_"))):  # "pt-BR" or "pt_BR"
                    should.append({"term": {language_field: {"value": value, "case_insensitive": True}}})
                    for sep in "-_":
                        should.append(
                            {"prefix": {language_field: {"value": value + sep, "case_insensitive": True}}}
                        )
            return {"bool": {"should": should, "minimum_should_match": 1}}
        if isinstance(n, Not):
            return {"bool": {"must_not": [build(n.child)]}}
        if isinstance(n, Or):
            return {"bool": {"should": [build(c) for c in n.children], "minimum_should_match": 1}}
        if isinstance(n, And):
            must = [build(c) for c in n.children if not isinstance(c, Not)]
            must_not = [build(c.child) for c in n.children if isinstance(c, Not)]
            query: dict = {"must": must}
            if must_not:
                query["must_not"] = must_not
            return {"bool": query}
        raise TypeError(f"not a query node: {n!r}")

    query = build(node)
    return query if "bool" in query else {"bool": {"must": [query]}}
