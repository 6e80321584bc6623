import secrets

from django.db import migrations, models

import apps.connectors.models


def give_every_channel_a_token(apps, schema_editor):
    Channel = apps.get_model("connectors", "Channel")
    for channel in Channel.objects.filter(webhook_token__isnull=True).only("pk"):
        channel.webhook_token = secrets.token_urlsafe(24)
        channel.save(update_fields=["webhook_token"])


class Migration(migrations.Migration):
    dependencies = [("connectors", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="webhook_token",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
        migrations.RunPython(give_every_channel_a_token, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="channel",
            name="webhook_token",
            field=models.CharField(
                default=apps.connectors.models._webhook_token, editable=False, max_length=64, unique=True
            ),
        ),
    ]
