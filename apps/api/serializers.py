"""What the API shows of each model, and the input of its actions. Output serializers are read-only views of
the models; inputs are small serializers per action, whose values the views pass to the services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import Brand
from apps.alerts.models import Alert, AlertRule
from apps.classification.models import Task
from apps.connectors.models import Channel
from apps.conversations.models import Conversation, Message
from apps.conversations.services import NOTE_MAX_CHARS
from apps.customers.models import Customer, Identity
from apps.listening.models import Level, ListeningQuery
from apps.webhooks.models import Event, WebhookDelivery, WebhookEndpoint

from .fields import ScopedPrimaryKeyRelatedField
from .permissions import api_membership

# ------------------------------------------------------------------------------------------ organisation


class BrandSerializer(serializers.ModelSerializer):
    handles = serializers.ListField(
        child=serializers.CharField(max_length=200), max_length=200, required=False
    )
    keywords = serializers.ListField(
        child=serializers.CharField(max_length=200), max_length=200, required=False
    )
    competitors = serializers.ListField(
        child=serializers.CharField(max_length=200), max_length=200, required=False
    )
    category_terms = serializers.ListField(
        child=serializers.CharField(max_length=200), max_length=200, required=False
    )

    class Meta:
        model = Brand
        fields = ["id", "name", "slug", "handles", "keywords", "competitors", "category_terms", "created_at"]
        read_only_fields = ["id", "slug", "created_at"]
        extra_kwargs = {"name": {"max_length": 200, "required": False}}

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("a brand needs a name")
        return value.strip()


class ChannelSerializer(serializers.ModelSerializer):
    """A channel without its credentials, webhook token or settings: those never leave the server."""

    class Meta:
        model = Channel
        fields = [
            "id",
            "brand",
            "kind",
            "name",
            "status",
            "last_fetch_at",
            "last_error",
            "error_count",
            "created_at",
        ]
        read_only_fields = fields


# --------------------------------------------------------------------------------------------- customers


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Identity
        fields = [
            "id",
            "customer",
            "kind",
            "external_id",
            "handle",
            "display_name",
            "profile_url",
            "avatar_url",
            "followers",
            "verified",
            "email",
            "email_verified",
            "phone",
            "phone_verified",
            "first_seen_at",
            "last_seen_at",
        ]
        read_only_fields = fields


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "id",
            "display_name",
            "attributes",
            "lifetime_value",
            "merged_into",
            "erased_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerListSerializer(CustomerSerializer):
    identity_count = serializers.IntegerField(read_only=True)
    last_contact_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "identity_count", "last_contact_at"]
        read_only_fields = fields


class CustomerDetailSerializer(CustomerSerializer):
    identities = IdentitySerializer(many=True, read_only=True)

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "identities"]
        read_only_fields = fields


# ------------------------------------------------------------------------------ conversations, messages


class ConversationSerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    priority_level = serializers.CharField(read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "subject",
            "status",
            "priority",
            "priority_level",
            "brand",
            "channel",
            "customer",
            "assignee",
            "team",
            "tags",
            "sentiment",
            "intent",
            "language",
            "message_count",
            "snoozed_until",
            "first_response_at",
            "resolved_at",
            "sla_due_at",
            "last_message_at",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "version": {
                "help_text": "Changes with every change of status, assignee or tags. Send it back with an "
                "action (`version`, or the If-Match header) and the action is refused with 409 if someone "
                "changed the conversation since."
            }
        }


class MessageSerializer(serializers.ModelSerializer):
    """A message; its classification (labels, scores, evidence) is read-only: corrections go through the
    `correct` action, which the brand's model learns from."""

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "channel",
            "direction",
            "text",
            "image_text",  # the text read in the message's images (apps.ocr)
            "html",
            "language",
            "author_identity",
            "author_user",
            "sent_at",
            "delivery_status",
            "delivery_error",
            "sentiment",
            "sentiment_score",
            "intent",
            "priority",
            "classification",
            "classified_at",
            "created_at",
        ]
        read_only_fields = fields


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=["message", "event"])
    message = MessageSerializer(allow_null=True)
    event = serializers.SerializerMethodField()

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "action": {"type": "string"},
                "actor": {"type": "integer", "nullable": True},
                "data": {"type": "object", "additionalProperties": True},
            },
        }
    )
    def get_event(self, entry) -> dict | None:
        if entry.event is None:
            return None
        return {"action": entry.event.action, "actor": entry.event.actor_id, "data": entry.event.data}


# ------------------------------------------------------------------------------------- action inputs


class SeenInput(serializers.Serializer):
    """An action on a conversation: `version` (or If-Match) is the version the client saw."""

    version = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="The conversation's version the client saw: 409 if someone changed it since. "
        "Left out (and no If-Match), the action applies to whatever the conversation is now.",
    )


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    change = serializers.CharField(allow_null=True, help_text="Who changed it last, and how.")
    changed_at = serializers.DateTimeField(allow_null=True)
    conversation = ConversationSerializer(help_text="The conversation as it is now.")


class AssignInput(SeenInput):
    assignee = serializers.IntegerField(
        allow_null=True,
        min_value=1,
        help_text="A user id of a member who works on this brand; null unassigns.",
    )


STATUS_CHOICES = [(value, label) for value, label in Conversation.Status.choices]


class StatusInput(SeenInput):
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    snoozed_until = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Required when the status is snoozed: a future moment."
    )

    def validate(self, data):
        if data["status"] == Conversation.Status.SNOOZED and not data.get("snoozed_until"):
            raise serializers.ValidationError({"snoozed_until": "snoozing asks until when"})
        return data


class SnoozeInput(SeenInput):
    until = serializers.DateTimeField()

    def validate_until(self, value):
        if value <= timezone.now():
            raise serializers.ValidationError("snooze it until a moment in the future")
        return value


class TagInput(SeenInput):
    name = serializers.CharField(max_length=60, help_text="The organisation's tag of that name, made if new.")


class NoteInput(serializers.Serializer):
    text = serializers.CharField(max_length=NOTE_MAX_CHARS, trim_whitespace=True)


class ReplyInput(serializers.Serializer):
    text = serializers.CharField(max_length=100_000, trim_whitespace=False)
    channel = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Another channel of the brand on which the customer can be reached; "
        "the conversation's by default.",
    )
    send_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Schedule the reply.")


class LimitIssueSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    blocking = serializers.BooleanField()


class ReplyRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    issues = LimitIssueSerializer(many=True)


class CorrectionInput(serializers.Serializer):
    task = serializers.ChoiceField(choices=Task.choices)
    label = serializers.CharField(max_length=80)
    mention = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="For a label about one brand: its mention."
    )


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class EraseSummarySerializer(serializers.Serializer):
    profiles = serializers.IntegerField()
    identities_removed = serializers.IntegerField()
    messages_redacted = serializers.IntegerField()
    payloads_redacted = serializers.IntegerField()


# -------------------------------------------------------------------------------------------- listening


class ListeningQuerySerializer(serializers.ModelSerializer):
    brand = ScopedPrimaryKeyRelatedField(Brand)
    #: The QuerySyntaxError of the last validation, if any (the view returns its position as a number).
    syntax_error = None

    class Meta:
        model = ListeningQuery
        fields = [
            "id",
            "brand",
            "name",
            "level",
            "query",
            "competitor",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"query": {"max_length": 5000}}

    def validate_query(self, value: str) -> str:
        from apps.connectors.kinds import ChannelKind
        from apps.listening.query import QuerySyntaxError, validate

        try:
            validate(value, channels=ChannelKind.values)
        except QuerySyntaxError as error:
            self.syntax_error = error
            raise serializers.ValidationError(str(error), code="syntax") from error
        return value


class QuerySyntaxErrorSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="0-based character offset of the problem.")
    message = serializers.CharField()


class ListeningQueryErrorSerializer(serializers.Serializer):
    query = QuerySyntaxErrorSerializer(required=False)


class ListeningPreviewInput(serializers.Serializer):
    query = serializers.CharField(max_length=5000)


class ListeningPreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    sample = MessageSerializer(many=True)


# ----------------------------------------------------------------------------------------------- alerts


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "brand",
            "kind",
            "status",
            "window_start",
            "window_end",
            "observed",
            "expected",
            "score",
            "volume",
            "subject",
            "peak_observed",
            "peak_at",
            "sample_message_ids",
            "last_seen_at",
            "acknowledged_by",
            "acknowledged_at",
            "resolved_by",
            "resolved_at",
            "created_at",
        ]
        read_only_fields = fields


class InboxMemberField(serializers.PrimaryKeyRelatedField):
    """A user id of the caller's organisation with an inbox role (who can read an alert notification)."""

    def get_queryset(self):
        from apps.accounts.models import Role, User

        request = self.context.get("request")
        membership = api_membership(request) if request else None
        if membership is None:
            return User.objects.none()
        return User.objects.filter(
            memberships__organization_id=membership.organization_id,
            memberships__role__in=[Role.ADMIN, Role.COMMUNITY_MANAGER],
        )


class AlertRuleSerializer(serializers.ModelSerializer):
    brand = ScopedPrimaryKeyRelatedField(Brand)
    notify_members = InboxMemberField(many=True, required=False)
    email_recipients = serializers.ListField(child=serializers.EmailField(), required=False, max_length=50)

    class Meta:
        model = AlertRule
        fields = ["id", *AlertRule.EDITABLE_FIELDS, "last_evaluated_at", "created_at"]
        read_only_fields = ["id", "last_evaluated_at", "created_at"]
        extra_kwargs = {
            "name": {"max_length": 200},
            "window_hours": {"min_value": 1, "max_value": 24},
            "cooldown_hours": {"max_value": 24 * 30},
            "sensitivity": {"min_value": 0.1, "max_value": 1000},
            "threshold": {"min_value": 0, "max_value": 1e9},
        }


# --------------------------------------------------------------------------------------------- webhooks


SUBSCRIBABLE_EVENTS = [(value, label) for value, label in Event.choices if value != Event.PING]


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint without its signing secret: the secret is returned once, when the endpoint is made or
    its secret rotated (`secret` in those responses only)."""

    events = serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS), max_length=20)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"description": {"max_length": 200}, "active": {"required": False}}


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret: shown this once.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret: shown this once.")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "uuid",
            "event",
            "payload",
            "status",
            "attempts",
            "response_status",
            "response_body",
            "error",
            "next_attempt_at",
            "last_attempt_at",
            "redelivery_of",
            "created_at",
        ]
        read_only_fields = fields


# -------------------------------------------------------------------------------------------- dashboard

DASHBOARD_MAX_DAYS = 366


class DashboardInput(serializers.Serializer):
    brand = serializers.IntegerField(min_value=1, help_text="Required: the dashboards show one brand.")
    since = serializers.DateField(
        required=False, help_text="First UTC day; 30 days before `until` by default."
    )
    until = serializers.DateField(required=False, help_text="Last UTC day (included); today by default.")
    channel = serializers.IntegerField(min_value=1, required=False)
    language = serializers.RegexField(
        r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$", max_length=16, required=False
    )
    level = serializers.ChoiceField(choices=Level.choices, required=False)

    def validate(self, data):
        until = data.get("until") or timezone.now().date()
        since = data.get("since") or until - timedelta(days=29)
        if until < since:
            raise serializers.ValidationError({"until": "the end day is before the first day"})
        if (until - since).days + 1 > DASHBOARD_MAX_DAYS:
            raise serializers.ValidationError({"since": f"a range is at most {DASHBOARD_MAX_DAYS} days"})
        return {**data, "since": since, "until": until}


class CountSerializer(serializers.Serializer):
    label = serializers.CharField(help_text='"" where the messages have no value yet (not classified).')
    messages = serializers.IntegerField()


class PointSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    messages = serializers.IntegerField()


class SentimentSeriesSerializer(serializers.Serializer):
    sentiment = serializers.CharField()
    points = PointSerializer(many=True)


class ChannelCountSerializer(serializers.Serializer):
    channel_id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    messages = serializers.IntegerField()


class DashboardSerializer(serializers.Serializer):
    brand = serializers.IntegerField()
    since = serializers.DateField()
    until = serializers.DateField()
    hourly = serializers.BooleanField(help_text="Points per hour (short ranges) or per UTC day.")
    volume_total = serializers.IntegerField()
    volume_over_time = PointSerializer(many=True)
    sentiment_trend = SentimentSeriesSerializer(many=True)
    intents = CountSerializer(many=True)
    languages = CountSerializer(many=True)
    levels = CountSerializer(many=True)
    share_of_voice = CountSerializer(many=True, help_text='"" is the brand itself, then each competitor.')
    channels = ChannelCountSerializer(many=True)
    top_terms = CountSerializer(
        many=True, help_text="The most frequent words, with the messages holding them."
    )
    top_hashtags = CountSerializer(many=True)
