"""The list endpoints' query parameters. A value that is not valid is a 400 that says which and why (never
a database error): ids are bounded integers, choices are checked, dates are ISO 8601."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from apps.alerts.models import Alert, AlertRule
from apps.classification.models import Sentiment
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from apps.conversations.models import Conversation, Message
from apps.customers.models import IDENTITY_KIND_CHOICES, Identity
from apps.listening.models import Level, ListeningQuery
from apps.webhooks.models import Event, WebhookDelivery

MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An id: a whole number from 1, as the schema says (the default NumberFilter would take 1.5 or 1e99)."""

    field_class = IdField


class LanguageField(forms.RegexField):
    def __init__(self, *args, **kwargs):
        super().__init__(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$", *args, max_length=16, **kwargs)


class LanguageFilter(django_filters.CharFilter):
    field_class = LanguageField


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 moment, in UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None or moment.tzinfo is None:
            return moment
        try:
            return moment.astimezone(UTC)
        except OverflowError as error:
            raise forms.ValidationError("this moment is out of range", code="invalid") from error


class MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class ConversationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Conversation.Status.choices)
    brand = IdFilter(field_name="brand_id")
    channel = IdFilter(field_name="channel_id")
    customer = IdFilter(field_name="customer_id")
    assignee = IdFilter(field_name="assignee_id", help_text="A user id.")
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    sentiment = django_filters.ChoiceFilter(choices=Sentiment.choices)
    intent = django_filters.CharFilter(max_length=40)
    language = LanguageFilter()
    tag = IdFilter(field_name="tags", help_text="A tag id.")
    updated_since = MomentFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Changed at or after this moment (ISO 8601)."
    )

    class Meta:
        model = Conversation
        fields = []


class MessageFilter(django_filters.FilterSet):
    conversation = IdFilter(field_name="conversation_id")
    channel = IdFilter(field_name="channel_id")
    direction = django_filters.ChoiceFilter(choices=Message.Direction.choices)
    sentiment = django_filters.ChoiceFilter(choices=Sentiment.choices)
    intent = django_filters.CharFilter(max_length=40)
    language = LanguageFilter()
    sent_since = MomentFilter(field_name="sent_at", lookup_expr="gte")
    sent_before = MomentFilter(field_name="sent_at", lookup_expr="lt")
    classified = django_filters.BooleanFilter(field_name="classified_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Message
        fields = []


class IdentityFilter(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    kind = django_filters.ChoiceFilter(choices=IDENTITY_KIND_CHOICES)
    handle = django_filters.CharFilter(field_name="handle", lookup_expr="iexact", max_length=255)
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact", max_length=254)

    class Meta:
        model = Identity
        fields = []


class ChannelFilter(django_filters.FilterSet):
    brand = IdFilter(field_name="brand_id")
    kind = django_filters.ChoiceFilter(choices=ChannelKind.choices)
    status = django_filters.ChoiceFilter(choices=Channel.Status.choices)

    class Meta:
        model = Channel
        fields = []


class ListeningQueryFilter(django_filters.FilterSet):
    brand = IdFilter(field_name="brand_id")
    level = django_filters.ChoiceFilter(choices=Level.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = ListeningQuery
        fields = []


class AlertRuleFilter(django_filters.FilterSet):
    brand = IdFilter(field_name="brand_id")
    kind = django_filters.ChoiceFilter(choices=AlertRule.Kind.choices)
    active = django_filters.BooleanFilter()

    class Meta:
        model = AlertRule
        fields = []


class AlertFilter(django_filters.FilterSet):
    brand = IdFilter(field_name="brand_id")
    rule = IdFilter(field_name="rule_id")
    status = django_filters.ChoiceFilter(choices=Alert.Status.choices)
    kind = django_filters.ChoiceFilter(choices=AlertRule.Kind.choices)
    created_since = MomentFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Alert
        fields = []


class WebhookDeliveryFilter(django_filters.FilterSet):
    endpoint = IdFilter(field_name="endpoint_id")
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    event = django_filters.ChoiceFilter(choices=Event.choices)

    class Meta:
        model = WebhookDelivery
        fields = []
