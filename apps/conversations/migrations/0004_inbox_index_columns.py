"""The inbox's indexes of active conversations carry the filtered columns, and the planner learns how
agents' and teams' conversations spread over statuses (measured with bench/inbox.py at 1,000,000)."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

FILTERED = ["brand", "channel", "assignee", "team", "sentiment", "intent", "language"]

# Agents' work is not spread evenly over statuses (closed conversations are nearly all assigned; an agent
# away has none open), so the planner is told the real combinations: without them it expects a filter on
# an agent or a team to match early in an index walk, and may walk every open conversation to find none.
# A large target keeps every agent's and team's combination in the list.
STATUS_STATISTICS = [
    "CREATE STATISTICS conv_status_assignee (mcv) ON status, assignee_id FROM conversations_conversation",
    "ALTER STATISTICS conv_status_assignee SET STATISTICS 1000",
    "CREATE STATISTICS conv_status_team (mcv) ON status, team_id FROM conversations_conversation",
    "ALTER STATISTICS conv_status_team SET STATISTICS 1000",
    "ANALYZE conversations_conversation",
]


def _with_filtered_columns(name: str, order: list[str], also: list[str]) -> list:
    """Rebuild one index of the open and pending conversations, carrying the filtered columns: a narrow
    filter is then checked in the index instead of in every row it passes."""
    return [
        RemoveIndexConcurrently(model_name="conversation", name=name),
        AddIndexConcurrently(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("status__in", ["open", "pending"])),
                fields=["organization", *order],
                include=[*FILTERED, *also],
                name=name,
            ),
        ),
    ]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("conversations", "0003_inbox_list")]

    operations = [
        *_with_filtered_columns(
            "conv_active_priority", ["-priority", "-last_message_at", "-id"], ["sla_due_at"]
        ),
        *_with_filtered_columns("conv_active_recent", ["last_message_at", "id"], ["priority", "sla_due_at"]),
        *_with_filtered_columns("conv_active_sla", ["sla_due_at", "id"], ["priority", "last_message_at"]),
        migrations.RunSQL(
            STATUS_STATISTICS,
            ["DROP STATISTICS IF EXISTS conv_status_assignee", "DROP STATISTICS IF EXISTS conv_status_team"],
        ),
        # "und" (no language detected) is no language: conversations_refresh_labels skips it.
        migrations.RunSQL(
            "UPDATE conversations_conversation SET language = '' WHERE language = 'und'",
            migrations.RunSQL.noop,
        ),
    ]
