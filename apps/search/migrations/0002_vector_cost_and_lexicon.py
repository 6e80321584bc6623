"""Measured at a million messages (bench/search.py):

- cxm_search_vector becomes PL/pgSQL with its real COST. As an inlined SQL function the planner took
  recomputing the tsvector for a row as nearly free, and for a rare word walked the messages newest
  first, filtering each (a second for 20,000 rows) instead of asking the GIN index.
- Typo-tolerant search looks words up in a lexicon of the words the messages contain (search_lexicon,
  with a pg_trgm index), then searches for the close ones through the tsvector index. A trigram index over
  the messages' text answered the same question an order of magnitude slower (every message sharing a
  trigram with the typo is checked), and cost every ingested message a second GIN update, so it goes.
"""

from django.db import migrations

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff"

FORWARD = f"""
CREATE OR REPLACE FUNCTION public.cxm_search_vector(language text, body text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 500
    AS $$
    BEGIN
        -- Runs of CJK are set apart by spaces first: the parser would glue "nimbus" into "买了nimbus手机".
        IF body ~ '[{CJK}]' THEN
            RETURN to_tsvector(public.cxm_search_config(language), regexp_replace(body, '([{CJK}]+)', ' \\1 ', 'g'))
                || public.cxm_cjk_bigrams(body);
        END IF;
        RETURN to_tsvector(public.cxm_search_config(language), coalesce(body, ''));
    END
    $$;
REINDEX INDEX msg_search_vector;
DROP INDEX IF EXISTS msg_search_trigram;

CREATE TABLE search_lexicon (word text PRIMARY KEY);
CREATE INDEX search_lexicon_trigram ON search_lexicon USING gin (word gin_trgm_ops);

-- The lexicon words close to a typed word, as a tsquery of lexemes (they are already normalised).
CREATE FUNCTION public.cxm_search_similar(typed text) RETURNS tsquery
    LANGUAGE sql STABLE PARALLEL SAFE STRICT
    AS $$
    SELECT coalesce(string_agg(quote_literal(word), ' | ')::tsquery, ''::tsquery)
    FROM (SELECT word FROM search_lexicon
          WHERE word % public.cxm_unaccent(lower(typed))
          ORDER BY word <-> public.cxm_unaccent(lower(typed)) LIMIT 5) AS close
    $$;
"""

BACKWARD = """
DROP FUNCTION IF EXISTS public.cxm_search_similar(text);
DROP TABLE IF EXISTS search_lexicon;
CREATE INDEX msg_search_trigram ON conversations_message USING gin (public.cxm_unaccent(lower(text)) gin_trgm_ops);
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0001_postgres_full_text")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
