"""Which PostgreSQL text search configuration and which Elasticsearch analyser each language code gets.

Pure data, shared by the migration that creates the SQL functions, the PostgreSQL backend and the
Elasticsearch mapping, so that the three agree.
"""

from __future__ import annotations

# Language code (the part before any region: "pt" for "pt-BR") -> PostgreSQL's snowball configuration.
# Every configuration is copied as cxm_<name> with `unaccent` in front of the stemmer (see the migration):
# "café" and "cafe" give the same lexeme, and ts_headline still shows the text as written.
POSTGRES_CONFIGS = {
    "en": "english",
    "es": "spanish",
    "ar": "arabic",
    "id": "indonesian",
    "ms": "indonesian",
    "ru": "russian",
    "fr": "french",
    "de": "german",
    "pt": "portuguese",
    "it": "italian",
    "hi": "hindi",
}
# Languages without a stemmer here (Chinese, Japanese, Korean, Thai...) and unknown ones: words as written.
POSTGRES_DEFAULT_CONFIG = "simple"

# Language code -> the Elasticsearch analyser its text is indexed with: the built-in language analysers,
# named as PostgreSQL names its stemmers, and "cjk" (bigrams) for Chinese, Japanese and Korean. Anything
# else: the standard tokenizer with ascii folding.
ELASTICSEARCH_ANALYZERS = {**POSTGRES_CONFIGS, "zh": "cjk", "ja": "cjk", "ko": "cjk"}


def base_language(code: str) -> str:
    """ "pt-BR" / "pt_BR" / "PT" -> "pt"."""
    return (code or "").replace("_", "-").split("-", 1)[0].lower()


def postgres_config(code: str) -> str:
    """The cxm_* text search configuration a message in this language is indexed with."""
    return "cxm_" + POSTGRES_CONFIGS.get(base_language(code), POSTGRES_DEFAULT_CONFIG)


def postgres_configs() -> list[str]:
    """Every cxm_* configuration, each once (a query is normalised with all of them)."""
    names = dict.fromkeys([*POSTGRES_CONFIGS.values(), POSTGRES_DEFAULT_CONFIG])
    return [f"cxm_{name}" for name in names]
