"""Pre-aggregated rollups behind the dashboards, rebuilt bucket by bucket from the raw tables.

What counts for a brand (the "brand's messages"): an inbound message counts for a brand when its
conversation is the brand's, or when a listening Mention tags it for the brand (a mention the classifier
judged irrelevant, `relevant = false`, does not count). Each (message, brand) pair counts once, at one
listening level: `to_brand` when the conversation is the brand's, else the first of to_brand,
about_brand, competitor, category among the message's mentions for the brand. Outbound replies and notes
are not volume; they only move response times.

A bucket is one brand and one UTC day: `services.rollups_recompute` deletes a bucket's rows from every
rollup and inserts them again with one INSERT … SELECT … GROUP BY per rollup, so recomputing is idempotent
and a bucket is always exactly what the raw rows say. Database triggers (migration 0002) append the buckets
that a write touches to `DirtyBucket`, whichever code path writes; the workers recompute them.
"""

from django.db import models

from apps.core.models import TenantModel
from apps.listening.models import Level

#: A pair's listening level when its conversation is the brand's own.
OWN_LEVEL = Level.TO_BRAND

#: Rollup rows are derived from rows that exist: their foreign keys carry no database constraint, whose
#: checks (deferred to COMMIT, one per row and key) would cost more than the recompute itself. Deletions
#: still cascade through Django, and a recompute rewrites a bucket from the raw rows anyway.
DERIVED = {"db_constraint": False}


class RollupModel(TenantModel):
    """A tenant rollup: its organisation key, like the others, without a database constraint."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", **DERIVED
    )

    class Meta:
        abstract = True


class DirtyBucket(models.Model):
    """A (brand, day) whose rollups are stale. Append-only: triggers insert a row per written row (no
    unique key, so concurrent ingestion never waits on another transaction's bucket); the refresh task
    reads a batch, recomputes its distinct buckets and deletes exactly the rows it read."""

    brand_id = models.BigIntegerField()
    day = models.DateField()

    def __str__(self):
        return f"brand {self.brand_id} · {self.day}"


class MessageHourly(RollupModel):
    """The brand's inbound messages per hour and per combination of the filterable dimensions."""

    TENANT_BRAND_PATH = "brand"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+", **DERIVED)
    hour = models.DateTimeField()
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+", **DERIVED)
    language = models.CharField(max_length=16, blank=True)
    level = models.CharField(max_length=16, choices=Level.choices)
    sentiment = models.CharField(max_length=10, blank=True)
    intent = models.CharField(max_length=40, blank=True)
    messages = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["brand", "hour"],
                include=["channel", "language", "level", "sentiment", "intent", "messages"],
                name="rollup_msg_brand_hour",
            )
        ]


class MessageDaily(RollupModel):
    """The brand's inbound messages per UTC day by the filters and sentiment: ranges longer than a few days
    read this instead of MessageHourly (a year is 365 buckets, not 8,760, and fewer dimensions per row)."""

    TENANT_BRAND_PATH = "brand"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+", **DERIVED)
    day = models.DateField()
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+", **DERIVED)
    language = models.CharField(max_length=16, blank=True)
    level = models.CharField(max_length=16, choices=Level.choices)
    sentiment = models.CharField(max_length=10, blank=True)
    messages = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["brand", "day"],
                include=["channel", "language", "level", "sentiment", "messages"],
                name="rollup_msgday_brand_day",
            )
        ]


class IntentDaily(RollupModel):
    """The brand's inbound messages per UTC day by the filters and intent (the intent breakdown)."""

    TENANT_BRAND_PATH = "brand"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+", **DERIVED)
    day = models.DateField()
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+", **DERIVED)
    language = models.CharField(max_length=16, blank=True)
    level = models.CharField(max_length=16, choices=Level.choices)
    intent = models.CharField(max_length=40, blank=True)
    messages = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["brand", "day"],
                include=["channel", "language", "level", "intent", "messages"],
                name="rollup_intentday_brand_day",
            )
        ]


class VoiceDaily(RollupModel):
    """Share of voice: per day, the brand's own messages (`competitor` empty: level to_brand or
    about_brand) and each competitor's (distinct messages with a competitor-level mention naming it)."""

    TENANT_BRAND_PATH = "brand"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+", **DERIVED)
    day = models.DateField()
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+", **DERIVED)
    language = models.CharField(max_length=16, blank=True)
    competitor = models.CharField(max_length=200, blank=True)
    messages = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["brand", "day"],
                include=["channel", "language", "competitor", "messages"],
                name="rollup_voice_brand_day",
            )
        ]


class TermDaily(RollupModel):
    """How many of the brand's messages contain each term or hashtag, per day (see `terms.py`)."""

    TENANT_BRAND_PATH = "brand"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+", **DERIVED)
    day = models.DateField()
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+", **DERIVED)
    language = models.CharField(max_length=16, blank=True)
    level = models.CharField(max_length=16, choices=Level.choices)
    term = models.CharField(max_length=60)
    is_hashtag = models.BooleanField()
    messages = models.PositiveIntegerField()

    class Meta:
        indexes = [
            # Covers the tenant scoping too (organization): a year of a brand is read from the index alone.
            models.Index(
                fields=["brand", "is_hashtag", "day"],
                include=["organization", "channel", "language", "level", "term", "messages"],
                name="rollup_term_brand_day_v2",
            )
        ]


class AuthorDaily(RollupModel):
    """The brand's messages per author identity and day, with the author's follower count as it was when
    the bucket was last recomputed (`followers`): ranking a year of authors by reach then needs no join to
    the identities (a few hundred thousand of them), and a bucket's count moves when the bucket is
    recomputed, not when the identity changes."""

    TENANT_BRAND_PATH = "brand"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+", **DERIVED)
    day = models.DateField()
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+", **DERIVED)
    language = models.CharField(max_length=16, blank=True)
    level = models.CharField(max_length=16, choices=Level.choices)
    identity = models.ForeignKey("customers.Identity", on_delete=models.CASCADE, related_name="+", **DERIVED)
    followers = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField()

    class Meta:
        indexes = [
            # Covers the tenant scoping too (organization): a year of a brand is read from the index alone.
            models.Index(
                fields=["brand", "day"],
                include=["organization", "channel", "language", "level", "identity", "followers", "messages"],
                name="rollup_author_brand_day_v2",
            )
        ]


class ConversationTiming(RollupModel):
    """Response times of one of the brand's conversations, exact to the second, dated by its first inbound
    message (`started_at`). Kept per conversation rather than as histogram buckets so that medians and
    90th percentiles are exact (percentile_disc); at one row per conversation it stays far smaller than
    the messages table."""

    TENANT_BRAND_PATH = "brand"

    conversation = models.OneToOneField(
        "conversations.Conversation", primary_key=True, on_delete=models.CASCADE, related_name="+", **DERIVED
    )
    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+", **DERIVED)
    started_at = models.DateTimeField()
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+", **DERIVED)
    language = models.CharField(max_length=16, blank=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, on_delete=models.SET_NULL, related_name="+", **DERIVED
    )
    first_response_seconds = models.IntegerField(null=True)
    resolution_seconds = models.IntegerField(null=True)

    class Meta:
        indexes = [
            # Covers the tenant scoping too (organization): a year of a brand is read from the index alone.
            models.Index(
                fields=["brand", "started_at"],
                include=[
                    "organization",
                    "channel",
                    "language",
                    "team",
                    "first_response_seconds",
                    "resolution_seconds",
                ],
                name="rollup_timing_brand_start_v2",
            )
        ]
