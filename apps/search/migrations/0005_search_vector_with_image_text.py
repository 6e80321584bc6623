"""The stored tsvector also covers the text read in the message's images (Message.image_text, apps.ocr), so a
word seen only in an image finds the message. A generated column's expression cannot change in place: the
column and its index are dropped and added back (PostgreSQL rewrites the table once)."""

from django.db import migrations

FORWARD = """
DROP INDEX IF EXISTS msg_search_vector;
ALTER TABLE conversations_message DROP COLUMN IF EXISTS search_vector;
ALTER TABLE conversations_message
    ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (public.cxm_search_vector(language, text || E'\\n' || image_text)) STORED;
CREATE INDEX msg_search_vector ON conversations_message USING gin (search_vector);
"""

BACKWARD = """
DROP INDEX IF EXISTS msg_search_vector;
ALTER TABLE conversations_message DROP COLUMN IF EXISTS search_vector;
ALTER TABLE conversations_message
    ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (public.cxm_search_vector(language, text)) STORED;
CREATE INDEX msg_search_vector ON conversations_message USING gin (search_vector);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0004_stored_search_vector"),
        ("conversations", "0007_message_image_text"),
    ]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
