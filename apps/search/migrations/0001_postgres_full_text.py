"""PostgreSQL full-text search over messages: text search configurations, SQL functions and two indexes.

- cxm_<language> configurations: copies of PostgreSQL's snowball ones with `unaccent` in front of the
  stemmer, so accents are ignored while ts_headline still shows the text as written.
- cxm_search_config(language code) -> regconfig, cxm_search_vector(language, text) -> tsvector: the
  message's words in its own language, plus overlapping bigrams of Chinese/Japanese/Korean runs (those
  scripts have no spaces between words; "手机" is found inside "我的手机很好").
- cxm_search_query(words) / cxm_search_prefix(word) -> tsquery: the words normalised by every language's
  configuration, OR-ed, because a search does not know the language of the messages it will find.
- cxm_unaccent(text): unaccent() is only STABLE (it reads its dictionary by name); this wrapper names the
  dictionary and is IMMUTABLE, so an index can use it.
- A GIN index on cxm_search_vector(language, text), and a pg_trgm GIN index on cxm_unaccent(lower(text))
  for typo-tolerant matching and regular expressions (the listening query language's exact checks).

The functions are frozen here as they were written; a later change needs a new migration.
"""

from django.db import migrations

CONFIGS = {
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
NAMES = [*dict.fromkeys(CONFIGS.values()), "simple"]
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff"


def _configurations() -> str:
    statements = []
    for name in NAMES:
        dictionary = "pg_catalog.simple" if name == "simple" else f"pg_catalog.{name}_stem"
        statements.append(
            f"CREATE TEXT SEARCH CONFIGURATION public.cxm_{name} (COPY = pg_catalog.{name});\n"
            f"ALTER TEXT SEARCH CONFIGURATION public.cxm_{name} "
            f"ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, {dictionary};"
        )
    return "\n".join(statements)


def _config_case() -> str:
    cases = " ".join(f"WHEN '{code}' THEN 'public.cxm_{name}'::regconfig" for code, name in CONFIGS.items())
    return f"CASE lower(split_part(replace(coalesce(language, ''), '_', '-'), '-', 1)) {cases} " + (
        "ELSE 'public.cxm_simple'::regconfig END"
    )


def _union(function: str, argument: str) -> str:
    return " || ".join(f"{function}('public.cxm_{name}'::regconfig, {argument})" for name in NAMES)


FORWARD = f"""
{_configurations()}

CREATE FUNCTION public.cxm_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN public.unaccent('public.unaccent'::regdictionary, $1);

CREATE FUNCTION public.cxm_search_config(language text) RETURNS regconfig
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN {_config_case()};

CREATE FUNCTION public.cxm_cjk_bigrams(body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$
    SELECT CASE WHEN body ~ '[{CJK}]' THEN coalesce(array_to_tsvector(ARRAY(
        SELECT DISTINCT substr(run[1], i, 2)
        FROM regexp_matches(body, '([{CJK}]{{2,}})', 'g') AS run,
             generate_series(1, char_length(run[1]) - 1) AS i
    )), ''::tsvector) ELSE ''::tsvector END
    $$;

-- Runs of CJK are set apart by spaces first: the parser would otherwise glue "nimbus" into "买了nimbus手机".
CREATE FUNCTION public.cxm_search_vector(language text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN body ~ '[{CJK}]'
        THEN to_tsvector(public.cxm_search_config(language), regexp_replace(body, '([{CJK}]+)', ' \\1 ', 'g'))
            || public.cxm_cjk_bigrams(body)
        ELSE to_tsvector(public.cxm_search_config(language), coalesce(body, '')) END;

CREATE FUNCTION public.cxm_search_query(words text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN {_union("phraseto_tsquery", "words")};

CREATE FUNCTION public.cxm_search_prefix(word text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN {_union("to_tsquery", "quote_literal(word) || ':*'")};

CREATE INDEX msg_search_vector ON conversations_message
    USING gin (public.cxm_search_vector(language, text));
CREATE INDEX msg_search_trigram ON conversations_message
    USING gin (public.cxm_unaccent(lower(text)) gin_trgm_ops);
"""

BACKWARD = """
DROP INDEX IF EXISTS msg_search_trigram;
DROP INDEX IF EXISTS msg_search_vector;
DROP FUNCTION IF EXISTS public.cxm_search_prefix(text);
DROP FUNCTION IF EXISTS public.cxm_search_query(text);
DROP FUNCTION IF EXISTS public.cxm_search_vector(text, text);
DROP FUNCTION IF EXISTS public.cxm_cjk_bigrams(text);
DROP FUNCTION IF EXISTS public.cxm_search_config(text);
DROP FUNCTION IF EXISTS public.cxm_unaccent(text);
""" + "\n".join(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS public.cxm_{name};" for name in NAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_extensions"),
        ("conversations", "0005_thread_alias"),
    ]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
