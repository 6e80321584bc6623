from django.db import models


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    LIVECHAT = "livechat", "Live chat"
    WHATSAPP = "whatsapp", "WhatsApp"
    MESSENGER = "messenger", "Facebook Messenger"
    INSTAGRAM = "instagram", "Instagram"
    TELEGRAM = "telegram", "Telegram"
    X = "x", "X"
    REDDIT = "reddit", "Reddit"
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    REVIEWS = "reviews", "Reviews"
    FORUM = "forum", "Forum"
    FEED = "feed", "Blogs and news (RSS/Atom)"
    WEBHOOK = "webhook", "Signed webhook API"
    IMPORT = "import", "Bulk import (CSV / JSON lines)"


# The 24-hour customer-service window of messaging apps, and other per-kind facts the composer needs.
PRIVATE_KINDS = {
    ChannelKind.EMAIL,
    ChannelKind.LIVECHAT,
    ChannelKind.WHATSAPP,
    ChannelKind.MESSENGER,
    ChannelKind.TELEGRAM,
}
