"""Author rollup rows carry the author's follower count (as of the bucket's recompute); the existing rows
take the identities' current counts here, so upgrading needs no rebuild. The covering index gains the
organisation (the tenant scoping) and the followers."""

from django.db import migrations, models

FILL_FOLLOWERS = """
UPDATE analytics_authordaily a SET followers = i.followers
FROM customers_identity i WHERE i.id = a.identity_id AND i.followers <> 0
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("analytics", "0004_rollup_keys_without_constraints"),
        ("connectors", "0002_channel_webhook_token"),
        ("customers", "0002_case_insensitive_lookups"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="authordaily", name="rollup_author_brand_day"),
        migrations.AddField(
            model_name="authordaily", name="followers", field=models.PositiveIntegerField(default=0)
        ),
        migrations.RunSQL(FILL_FOLLOWERS, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="authordaily",
            index=models.Index(
                fields=["brand", "day"],
                include=("organization", "channel", "language", "level", "identity", "followers", "messages"),
                name="rollup_author_brand_day_v2",
            ),
        ),
    ]
