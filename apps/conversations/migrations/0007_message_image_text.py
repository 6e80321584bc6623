from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0006_message_updates"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="image_text",
            field=models.TextField(blank=True, default=""),
        ),
    ]
