from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from pgvector.django import HnswIndex, VectorField

from apps.core.models import TenantModel

#: The sentence encoder behind every stored embedding (apps.classification.encoders): 512-d, multilingual.
ENCODER = "use-multilingual"
EMBEDDING_DIM = 512


class Scope(models.TextChoices):
    """Who may use a saved reply or a macro (selectors.shelf_usable) and who may change it
    (selectors.shelf_editable): personal ones are their owner's; the wider ones are written by admins."""

    PERSONAL = "personal", "Personal (only me)"
    TEAM = "team", "Team"
    BRAND = "brand", "Brand"
    ORGANIZATION = "organization", "Organisation"


class Shelved(TenantModel):
    """What saved replies and macros share: a scope, a folder, a usage count.

    The scope names who uses it: its `owner` (personal), the members of its `team`, or everyone; a `brand`
    narrows any scope to that brand's conversations (required for the brand scope).
    """

    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.ORGANIZATION)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The one user of a personal item.",
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
    folder = models.CharField(
        max_length=80, blank=True, help_text="Groups items in the lists and the picker."
    )
    usage_count = models.PositiveIntegerField(default=0, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def clean(self):
        for related in (self.brand, self.team):
            # (An admin form checks before the organisation is set; the service checks again after.)
            if (
                related is not None
                and self.organization_id
                and related.organization_id != self.organization_id
            ):
                raise ValidationError(f"{related} belongs to another organisation")
        if self.scope == Scope.PERSONAL and self.owner_id is None:
            raise ValidationError("A personal item needs its owner.")
        if self.scope != Scope.PERSONAL:
            self.owner = None
        if self.scope == Scope.TEAM and self.team_id is None:
            raise ValidationError("Choose the team.")
        if self.scope != Scope.TEAM:
            self.team = None
        if self.scope == Scope.BRAND and self.brand_id is None:
            raise ValidationError("Choose the brand.")


class SavedReply(Shelved):
    """A reply agents reuse, with variables filled when it is inserted ({{customer.first_name}}...)."""

    title = models.CharField(max_length=120)
    body = models.TextField(
        help_text="Variables: {{customer.first_name}} {{customer.last_name}} {{customer.name}} "
        "{{agent.name}} {{brand.name}} (or the short {first_name} {last_name} {brand} {agent}); "
        "others are left for the agent."
    )
    language = models.CharField(
        max_length=16, blank=True, help_text="ISO 639-1 code such as en or es; empty for any language."
    )
    intent = models.CharField(
        max_length=40, blank=True, help_text="The intent it answers (suggestions prefer it); empty for any."
    )
    # The encoder's vector of the title and body, for suggestions; emptied when either changes and filled
    # again the next time suggestions are asked for (services.saved_replies_embed).
    embedding = VectorField(dimensions=EMBEDDING_DIM, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["folder", "title"]
        verbose_name_plural = "saved replies"
        indexes = [models.Index(fields=["organization", "brand", "team"], name="savedreply_scope")]

    def __str__(self):
        return self.title


class Macro(Shelved):
    """A named list of actions run on one conversation or many (services.macro_run), undone as one
    (services.macro_undo). `actions` is a list of {"type": ...} objects (macros.ACTION_TYPES)."""

    name = models.CharField(max_length=120)
    actions = models.JSONField(default=list)

    class Meta:
        ordering = ["folder", "name"]
        indexes = [models.Index(fields=["organization", "brand", "team"], name="macro_scope")]

    def __str__(self):
        return self.name


class MacroRun(TenantModel):
    """One run of a macro, with what each conversation was before it, so that it can be undone once."""

    macro = models.ForeignKey(Macro, null=True, on_delete=models.SET_NULL, related_name="runs")
    name = models.CharField(max_length=120)  # the macro's, when run
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # [{"conversation": id, "before": {...}, "after": {...}, "tags": [tag ids added], "notes": [ids]}]
    changes = models.JSONField(default=list)
    skipped = models.JSONField(default=list)  # reasons, in words for the agent
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} on {len(self.changes)} conversation(s)"


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
    # The question's intent (the classifier's, or the conversation's), so suggestions prefer the same one.
    intent = models.CharField(max_length=40, blank=True)
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
