"""The words of a search, normalised by every language's configuration, each distinct lexeme once.

"asi" gives the same lexeme in most configurations; OR-ing it eleven times made the planner count its
frequency eleven times over, and walk a million messages newest first rather than ask the GIN index.
"""

from django.db import migrations

NAMES = [
    "english",
    "spanish",
    "arabic",
    "indonesian",
    "russian",
    "french",
    "german",
    "portuguese",
    "italian",
    "hindi",
    "simple",
]


def _distinct(function: str, argument: str) -> str:
    values = ", ".join(f"({function}('public.cxm_{name}'::regconfig, {argument}))" for name in NAMES)
    return f"""
    SELECT coalesce(string_agg(DISTINCT '(' || q::text || ')', ' | ')::tsquery, ''::tsquery)
    FROM (VALUES {values}) AS normalised(q)
    WHERE q <> ''::tsquery
    """


FORWARD = f"""
CREATE OR REPLACE FUNCTION public.cxm_search_query(words text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ {_distinct("phraseto_tsquery", "words")} $$;
CREATE OR REPLACE FUNCTION public.cxm_search_prefix(word text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ {_distinct("to_tsquery", "quote_literal(word) || ':*'")} $$;
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0002_vector_cost_and_lexicon")]
    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
