from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from pgvector.django import HnswIndex, VectorField

from apps.core.models import TenantModel

#: The sentence encoder behind every stored embedding (apps.classification.encoders): 512-d, multilingual.
ENCODER = "use-multilingual"
EMBEDDING_DIM = 512


class SavedReply(TenantModel):
    """A reply agents reuse, with variables filled when it is inserted ({first_name}, {brand}...).

    Without a brand it serves every brand of the organisation; without a team, every agent.
    """

    title = models.CharField(max_length=120)
    body = models.TextField(
        help_text="Variables: {first_name} {last_name} {brand} {agent}; others are left for the agent."
    )
    language = models.CharField(
        max_length=16, blank=True, help_text="ISO 639-1 code such as en or es; empty for any language."
    )
    brand = models.ForeignKey(
        "accounts.Brand",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Leave empty for every brand.",
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Leave empty for every agent; otherwise the team's members and its conversations.",
    )
    # The encoder's vector of the title and body, for suggestions; emptied when either changes and filled
    # again the next time suggestions are asked for (services.saved_replies_embed).
    embedding = VectorField(dimensions=EMBEDDING_DIM, null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "saved replies"
        indexes = [models.Index(fields=["organization", "brand", "team"], name="savedreply_scope")]

    def __str__(self):
        return self.title

    def clean(self):
        for related in (self.brand, self.team):
            # (An admin form checks before the organisation is set; the service checks again after.)
            if (
                related is not None
                and self.organization_id
                and related.organization_id != self.organization_id
            ):
                raise ValidationError(f"{related} belongs to another organisation")


class ResolutionExample(TenantModel):
    """What resolved a closed conversation: the customer's question, the brand's last reply, and the
    question's embedding, so that suggestions find the replies that resolved the most similar questions."""

    TENANT_BRAND_PATH = "brand"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="resolution_example"
    )
    reply_message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The reply's language ("und" when it could not be told).
    language = models.CharField(max_length=16, blank=True)
    question_text = models.TextField()
    # The reply with the customer's name, the agent's and the brand's turned back into variables.
    reply_text = models.TextField()
    embedding = VectorField(dimensions=EMBEDDING_DIM)
    encoder = models.CharField(max_length=60, default=ENCODER)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            HnswIndex(
                name="resolution_embedding_cos",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            models.Index(fields=["organization", "brand", "language"], name="resolution_scope"),
        ]
        constraints = [models.CheckConstraint(condition=~Q(reply_text=""), name="resolution_has_reply")]

    def __str__(self):
        return f"Resolution of conversation #{self.conversation_id}"
