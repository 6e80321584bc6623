"""What counts as a term or a hashtag in the top-terms tables.

The rollup tokenises in PostgreSQL (the same SQL for a one-bucket refresh and a ten-million-message
backfill); `message_terms` is the same rule in Python, for tests and readers:

- the lowercased text, its first `TEXT_LIMIT` characters, split into runs of letters, digits and `_`,
  each optionally led by `#` (a hashtag) or `@` (a handle, left out: authors have their own table);
- a term keeps 2 to 60 characters (without its `#`), is not only digits, and is not a stop word of one of
  the languages below; scripts without spaces (Chinese, Japanese) give one term per run, kept as is;
- a phrase is two terms next to each other, neither a hashtag, joined by one space (at most 60 characters):
  phrases are counted with the terms (a term never holds a space) and shown by the trends, not the top terms.
"""

import re

TEXT_LIMIT = 2000
TOKEN_PATTERN = r"[#@]?[[:alnum:]_]+"
_PYTHON_TOKEN = re.compile(r"[#@]?\w+")

#: The languages whose stop words are left out of terms: the demo's nine, the classifier's others, and the
#: neighbours whose short words most often reach the tables as noise ("dan" in Indonesian, "co" in Czech
#: and Polish). The lists are those of stopwords-iso (the `stopwordsiso` wheel ships them).
STOP_WORD_LANGUAGES = (
    "en", "es", "fr", "de", "pt", "it", "nl", "ar", "ru", "uk", "zh", "ja", "ko", "hi", "id", "tr",
    "cs", "pl",
)  # fmt: skip

#: stopwords-iso's English list is the union of several sources and holds words that carry the meaning of
#: customer messages; those stay terms (a spike of "refund" or "problem" is what trends are for).
KEEP_WORDS = frozenset(
    [
        "account", "bill", "bills", "card", "best", "better", "good", "great", "bad", "help", "home", "line",
        "new", "order", "orders", "page", "part", "parts", "problem", "problems", "service", "services",
        "system", "work", "works", "working", "world", "year", "years",
    ]
)  # fmt: skip

#: Greetings and chat filler of the product's channels, which no list above holds.
EXTRA_STOP_WORDS = frozenset(
    [
        "hi",
        "hello",
        "thanks",
        "thank",
        "please",
        "im",
        "ive",
        "dont",
        "cant",
        "gonna",
        "hola",
        "merci",
        "danke",
    ]
)


def _stop_words() -> frozenset[str]:
    import stopwordsiso

    words = set(EXTRA_STOP_WORDS)
    for language in STOP_WORD_LANGUAGES:
        words.update(word.lower() for word in stopwordsiso.stopwords(language))
    return frozenset(words - KEEP_WORDS)


STOP_WORDS = _stop_words()


def message_terms(text: str) -> set[tuple[str, bool]]:
    """The distinct (term, is_hashtag) pairs of one message, by the rule above."""
    found = set()
    for token in _PYTHON_TOKEN.findall(text[:TEXT_LIMIT].lower()):
        if token.startswith("@"):
            continue
        word = token.lstrip("#")
        if 2 <= len(word) <= 60 and not word.isdigit() and token not in STOP_WORDS:
            found.add((token, token.startswith("#")))
    return found


def message_phrases(text: str) -> set[str]:
    """The distinct phrases (adjacent pairs of words that are terms) of one message, by the rule above."""
    tokens = _PYTHON_TOKEN.findall(text[:TEXT_LIMIT].lower())
    found = set()
    for first, second in zip(tokens, tokens[1:], strict=False):
        words = (first, second)
        if all(_is_word(word) for word in words) and len(phrase := f"{first} {second}") <= 60:
            found.add(phrase)
    return found


def _is_word(token: str) -> bool:
    return token[0] not in "#@" and 2 <= len(token) <= 60 and not token.isdigit() and token not in STOP_WORDS
