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
    SMS_TWILIO = "sms_twilio", "SMS (Twilio)"
    SMS_VONAGE = "sms_vonage", "SMS (Vonage)"
    LINE = "line", "LINE"
    YOUTUBE = "youtube", "YouTube"
    GOOGLE_BUSINESS = "google_business", "Google Business Profile reviews"
    APP_STORE = "app_store", "App Store reviews"
    GOOGLE_PLAY = "google_play", "Google Play reviews"
    TRUSTPILOT = "trustpilot", "Trustpilot reviews"
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
    ChannelKind.SMS_TWILIO,
    ChannelKind.SMS_VONAGE,
    ChannelKind.LINE,
}
