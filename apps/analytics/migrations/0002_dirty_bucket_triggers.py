"""Triggers that mark the dashboards' rollup buckets dirty whenever the rows they count change, whatever
code writes them (the pipeline, the classifier's bulk UPDATE … FROM VALUES, label corrections, merges,
admin edits, deletions). They only append (brand, day) rows to analytics_dirtybucket; the workers
recompute those buckets (apps.analytics.services.rollups_refresh). Row triggers with WHEN clauses, so an
UPDATE that changes nothing the rollups read (delivery status, priority) costs nothing."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION analytics_mark_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.direction = 'inbound' THEN
        INSERT INTO analytics_dirtybucket (brand_id, day)
        SELECT c.brand_id, (OLD.sent_at AT TIME ZONE 'UTC')::date
        FROM conversations_conversation c WHERE c.id = OLD.conversation_id
        UNION SELECT x.brand_id, (OLD.sent_at AT TIME ZONE 'UTC')::date
        FROM listening_mention x WHERE x.message_id = OLD.id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.direction = 'inbound'
            AND (NEW.conversation_id, NEW.sent_at, NEW.direction)
                IS DISTINCT FROM (OLD.conversation_id, OLD.sent_at, OLD.direction)) THEN
        IF NEW.direction = 'inbound' THEN
            INSERT INTO analytics_dirtybucket (brand_id, day)
            SELECT c.brand_id, (NEW.sent_at AT TIME ZONE 'UTC')::date
            FROM conversations_conversation c WHERE c.id = NEW.conversation_id
            UNION SELECT x.brand_id, (NEW.sent_at AT TIME ZONE 'UTC')::date
            FROM listening_mention x WHERE x.message_id = NEW.id;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_message_insert AFTER INSERT ON conversations_message
    FOR EACH ROW WHEN (NEW.direction = 'inbound') EXECUTE FUNCTION analytics_mark_message();
CREATE TRIGGER analytics_message_delete AFTER DELETE ON conversations_message
    FOR EACH ROW WHEN (OLD.direction = 'inbound') EXECUTE FUNCTION analytics_mark_message();
CREATE TRIGGER analytics_message_update AFTER UPDATE ON conversations_message
    FOR EACH ROW WHEN (
        (OLD.direction = 'inbound' OR NEW.direction = 'inbound')
        AND (OLD.conversation_id, OLD.sent_at, OLD.direction, OLD.sentiment, OLD.intent, OLD.language,
             OLD.channel_id, OLD.author_identity_id, OLD.text)
            IS DISTINCT FROM
            (NEW.conversation_id, NEW.sent_at, NEW.direction, NEW.sentiment, NEW.intent, NEW.language,
             NEW.channel_id, NEW.author_identity_id, NEW.text)
    ) EXECUTE FUNCTION analytics_mark_message();

CREATE FUNCTION analytics_mark_mention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO analytics_dirtybucket (brand_id, day)
        SELECT OLD.brand_id, (m.sent_at AT TIME ZONE 'UTC')::date
        FROM conversations_message m WHERE m.id = OLD.message_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics_dirtybucket (brand_id, day)
        SELECT NEW.brand_id, (m.sent_at AT TIME ZONE 'UTC')::date
        FROM conversations_message m WHERE m.id = NEW.message_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_mention_insert_delete AFTER INSERT OR DELETE ON listening_mention
    FOR EACH ROW EXECUTE FUNCTION analytics_mark_mention();
CREATE TRIGGER analytics_mention_update AFTER UPDATE ON listening_mention
    FOR EACH ROW WHEN (
        (OLD.message_id, OLD.brand_id, OLD.level, OLD.competitor, OLD.relevant)
        IS DISTINCT FROM (NEW.message_id, NEW.brand_id, NEW.level, NEW.competitor, NEW.relevant)
    ) EXECUTE FUNCTION analytics_mark_mention();

-- A conversation's response times are dated by its first inbound message; a conversation that moves to
-- another brand takes all its messages' days with it.
CREATE FUNCTION analytics_mark_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.brand_id IS DISTINCT FROM OLD.brand_id THEN
        INSERT INTO analytics_dirtybucket (brand_id, day)
        SELECT DISTINCT b.brand_id, (m.sent_at AT TIME ZONE 'UTC')::date
        FROM conversations_message m, (VALUES (OLD.brand_id), (NEW.brand_id)) AS b (brand_id)
        WHERE m.conversation_id = NEW.id AND m.direction = 'inbound';
    ELSE
        INSERT INTO analytics_dirtybucket (brand_id, day)
        SELECT NEW.brand_id, (min(m.sent_at) AT TIME ZONE 'UTC')::date
        FROM conversations_message m WHERE m.conversation_id = NEW.id AND m.direction = 'inbound'
        HAVING min(m.sent_at) IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_conversation_update AFTER UPDATE ON conversations_conversation
    FOR EACH ROW WHEN (
        (OLD.brand_id, OLD.channel_id, OLD.team_id, OLD.language, OLD.status, OLD.first_response_at,
         OLD.resolved_at)
        IS DISTINCT FROM
        (NEW.brand_id, NEW.channel_id, NEW.team_id, NEW.language, NEW.status, NEW.first_response_at,
         NEW.resolved_at)
    ) EXECUTE FUNCTION analytics_mark_conversation();
"""

BACKWARD = """
DROP TRIGGER analytics_conversation_update ON conversations_conversation;
DROP FUNCTION analytics_mark_conversation();
DROP TRIGGER analytics_mention_update ON listening_mention;
DROP TRIGGER analytics_mention_insert_delete ON listening_mention;
DROP FUNCTION analytics_mark_mention();
DROP TRIGGER analytics_message_update ON conversations_message;
DROP TRIGGER analytics_message_delete ON conversations_message;
DROP TRIGGER analytics_message_insert ON conversations_message;
DROP FUNCTION analytics_mark_message();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("conversations", "0005_thread_alias"),
        ("listening", "0002_mention_sentiment_relevance"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
