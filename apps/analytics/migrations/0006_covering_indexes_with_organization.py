"""The rollups' covering indexes gain the organisation: the tenant scoping (organization_id = …) is then
answered from the index too, and a year of a brand is an index-only scan instead of a heap scan."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("analytics", "0005_author_followers"),
        ("connectors", "0002_channel_webhook_token"),
        ("conversations", "0005_thread_alias"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="conversationtiming",
            name="rollup_timing_brand_start",
        ),
        migrations.RemoveIndex(
            model_name="termdaily",
            name="rollup_term_brand_day",
        ),
        migrations.AddIndex(
            model_name="conversationtiming",
            index=models.Index(
                fields=["brand", "started_at"],
                include=(
                    "organization",
                    "channel",
                    "language",
                    "team",
                    "first_response_seconds",
                    "resolution_seconds",
                ),
                name="rollup_timing_brand_start_v2",
            ),
        ),
        migrations.AddIndex(
            model_name="termdaily",
            index=models.Index(
                fields=["brand", "is_hashtag", "day"],
                include=("organization", "channel", "language", "level", "term", "messages"),
                name="rollup_term_brand_day_v2",
            ),
        ),
    ]
