"""The tsvector of each message, stored (a generated column) instead of recomputed from an expression index.

Measured at 100,000 messages (bench/search.py): recomputing a message's tsvector costs ~30 µs, and every
plan that looks at rows beyond the index -- the newest matches of a common word, phrase rechecks, ranking
-- recomputed it per row: 250-400 ms for common words. Read from the row it costs a few µs.

PostgreSQL keeps the column up to date on every INSERT and UPDATE of text or language; Django does not
know the column and never selects it. Note for later migrations: PostgreSQL refuses to change the type of
`text` or `language` while a generated column uses them -- drop this column (and its index) first, then
add them back as here.
"""

from django.db import migrations

FORWARD = """
DROP INDEX IF EXISTS msg_search_vector;
ALTER TABLE conversations_message
    ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (public.cxm_search_vector(language, text)) STORED;
CREATE INDEX msg_search_vector ON conversations_message USING gin (search_vector);
"""

BACKWARD = """
DROP INDEX IF EXISTS msg_search_vector;
ALTER TABLE conversations_message DROP COLUMN IF EXISTS search_vector;
CREATE INDEX msg_search_vector ON conversations_message USING gin (public.cxm_search_vector(language, text));
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0003_distinct_query_lexemes")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
