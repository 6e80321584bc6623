from django.core.exceptions import ValidationError
from django.db import models

from apps.connectors.kinds import ChannelKind
from apps.conversations.labels import Level
from apps.core.models import TenantModel

from .query import QuerySyntaxError, validate


class ListeningQuery(TenantModel):
    TENANT_BRAND_PATH = "brand"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="listening_queries")
    name = models.CharField(max_length=120)
    level = models.CharField(max_length=16, choices=Level.choices)
    query = models.TextField(
        help_text='Terms, "phrases", AND / OR / NOT, ( ), wildcards*, #tags, @handles, lang:xx, channel:kind'
    )
    competitor = models.CharField(max_length=200, blank=True, help_text="For competitor queries: which one.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brand__name", "level", "name"]
        verbose_name_plural = "listening queries"

    def __str__(self):
        return f"{self.brand}: {self.name}"

    def clean(self):
        try:
            validate(self.query, channels=ChannelKind.values)
        except QuerySyntaxError as error:
            raise ValidationError({"query": str(error)}) from error


class Mention(TenantModel):
    """A message that a brand's listening query matched, at that query's level."""

    TENANT_BRAND_PATH = "brand"

    message = models.ForeignKey("conversations.Message", on_delete=models.CASCADE, related_name="mentions")
    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="mentions")
    level = models.CharField(max_length=16, choices=Level.choices)
    query = models.ForeignKey(
        ListeningQuery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    competitor = models.CharField(max_length=200, blank=True)
    # Set by the classifier: the sentiment of what the message says about this brand (or competitor),
    # and whether the keyword hit is really about it ("clean the windows in my office").
    sentiment = models.CharField(max_length=10, blank=True)
    sentiment_score = models.FloatField(null=True, blank=True)
    relevant = models.BooleanField(null=True, blank=True)
    relevance_score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "brand", "level", "competitor"], name="mention_once")
        ]
        indexes = [
            models.Index(fields=["organization", "brand", "level", "-created_at"], name="mention_brand")
        ]

    def __str__(self):
        return f"{self.brand} · {self.get_level_display()}"
