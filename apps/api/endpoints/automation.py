"""Automation: rules and acknowledgements (admins, as on the automation pages, through the same services),
a rule's preview, and the satisfaction surveys with their figures (dashboard roles)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Brand
from apps.api.fields import ScopedPrimaryKeyRelatedField
from apps.automation import selectors
from apps.automation.models import AutoReply, Rule, Survey, SurveySettings
from apps.automation.registry import RuleInvalid
from apps.automation.services import auto_reply_save, rule_delete, rule_save, survey_settings_save

from .base import NOT_FOUND, REFUSED, TenantViewSet


class RuleSerializer(serializers.ModelSerializer):
    brand = ScopedPrimaryKeyRelatedField(Brand, required=False, allow_null=True)
    conditions = serializers.ListField(child=serializers.DictField(), required=False, max_length=20)
    actions = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=10)

    class Meta:
        model = Rule
        fields = [
            "id",
            "name",
            "brand",
            "trigger",
            "conditions",
            "actions",
            "position",
            "stop_processing",
            "wait_minutes",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {
            "name": {"max_length": 200},
            "wait_minutes": {"min_value": 1, "max_value": 60 * 24 * 30},
        }


class AutoReplySerializer(serializers.ModelSerializer):
    brand = ScopedPrimaryKeyRelatedField(Brand)
    texts = serializers.DictField(child=serializers.CharField(max_length=4000))

    class Meta:
        model = AutoReply
        fields = ["id", "brand", "kind", "texts", "default_language", "window_hours", "active", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"window_hours": {"min_value": 1, "max_value": 24 * 30}}


class SurveySettingsSerializer(serializers.ModelSerializer):
    brand = ScopedPrimaryKeyRelatedField(Brand)
    questions = serializers.DictField(
        child=serializers.CharField(max_length=1000),
        help_text='The question by language code, e.g. {"en": "How did we do?"}',
    )
    thanks = serializers.DictField(child=serializers.CharField(max_length=1000), required=False)
    comment_prompts = serializers.DictField(
        child=serializers.CharField(max_length=1000),
        required=False,
        help_text="Asked on the channel after a rating given with its buttons (empty: a built-in one).",
    )

    class Meta:
        model = SurveySettings
        fields = [
            "id",
            "brand",
            "active",
            "questions",
            "thanks",
            "comment_prompts",
            "default_language",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_brand(self, brand):
        taken = SurveySettings.objects.filter(brand=brand)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("this brand has its survey already: change that one")
        return brand


class SurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = Survey
        fields = [
            "id",
            "brand",
            "conversation",
            "customer",
            "channel",
            "agent",
            "team",
            "language",
            "refused",
            "sent_at",
            "rating",
            "comment",
            "via",
            "answered_at",
        ]
        read_only_fields = fields


PREVIEW = inline_serializer(
    "RulePreview",
    {
        "days": serializers.IntegerField(),
        "checked": serializers.IntegerField(),
        "matched": serializers.IntegerField(),
        "capped": serializers.BooleanField(),
        "conversations": serializers.ListField(child=serializers.IntegerField()),
    },
)


class _SavedThroughService:
    """Create and update through the automation service: the same checks and audit trail as the pages."""

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.model(organization_id=self.membership.organization_id)
        return self._save(instance, serializer, status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self._save(instance, serializer, status.HTTP_200_OK)

    def _save(self, instance, serializer, code: int) -> Response:
        for field, value in serializer.validated_data.items():
            setattr(instance, field, value)
        try:
            instance = self.service(instance, self.request.user, self.membership)
        except RuleInvalid as error:
            return self.refused(error)
        return Response(self.get_serializer(instance).data, status=code)


RULE_SAVED = {200: RuleSerializer, 400: REFUSED, 404: NOT_FOUND}


@extend_schema_view(
    list=extend_schema(summary="Automation rules, in the order they run"),
    retrieve=extend_schema(summary="One rule", responses={200: RuleSerializer, 404: NOT_FOUND}),
    create=extend_schema(summary="Add a rule", responses={201: RuleSerializer, 400: REFUSED}),
    partial_update=extend_schema(summary="Change a rule", responses=RULE_SAVED),
    update=extend_schema(summary="Replace a rule", responses=RULE_SAVED),
    destroy=extend_schema(summary="Delete a rule", responses={204: None, 404: NOT_FOUND}),
)
class RuleViewSet(
    _SavedThroughService,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Conditions are `{"field", "op", "value", "key"}` and actions `{"type", "value"}`, from the registry
    (apps/automation/registry.py); a rule that names an unknown one, or a value of another organisation,
    is refused with the reason."""

    model = Rule
    serializer_class = RuleSerializer
    read_role = "is_admin"
    write_role = "is_admin"

    @staticmethod
    def service(rule, actor, membership):
        return rule_save(rule=rule, actor=actor, membership=membership)

    def perform_destroy(self, instance):
        rule_delete(rule=instance, actor=self.request.user)

    @extend_schema(summary="What the rule would have matched over the last 7 days", responses={200: PREVIEW})
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        preview = selectors.rule_preview(rule=self.get_object(), membership=self.membership)
        return Response(
            {
                "days": preview.days,
                "checked": preview.checked,
                "matched": preview.matched,
                "capped": preview.capped,
                "conversations": [conversation.pk for conversation, _ in preview.examples],
            }
        )


@extend_schema_view(
    list=extend_schema(summary="Acknowledgements (first contact, out of hours)"),
    retrieve=extend_schema(
        summary="One acknowledgement", responses={200: AutoReplySerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Add an acknowledgement", responses={201: AutoReplySerializer, 400: REFUSED}
    ),
    partial_update=extend_schema(summary="Change an acknowledgement", responses={200: AutoReplySerializer}),
    update=extend_schema(summary="Replace an acknowledgement", responses={200: AutoReplySerializer}),
    destroy=extend_schema(summary="Delete an acknowledgement", responses={204: None, 404: NOT_FOUND}),
)
class AutoReplyViewSet(
    _SavedThroughService,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    model = AutoReply
    serializer_class = AutoReplySerializer
    read_role = "is_admin"
    write_role = "is_admin"

    @staticmethod
    def service(auto_reply, actor, membership):
        return auto_reply_save(auto_reply=auto_reply, actor=actor, membership=membership)


@extend_schema_view(
    list=extend_schema(summary="Satisfaction survey settings, one per brand (admins)"),
    retrieve=extend_schema(
        summary="One brand's survey settings", responses={200: SurveySettingsSerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Set up a brand's survey", responses={201: SurveySettingsSerializer, 400: REFUSED}
    ),
    partial_update=extend_schema(
        summary="Change a brand's survey",
        responses={200: SurveySettingsSerializer, 400: REFUSED, 404: NOT_FOUND},
    ),
    update=extend_schema(
        summary="Replace a brand's survey settings",
        responses={200: SurveySettingsSerializer, 400: REFUSED, 404: NOT_FOUND},
    ),
)
class SurveySettingsViewSet(
    _SavedThroughService,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantViewSet,
):
    """What is asked when a brand's conversation is resolved (the survey page of /automation/, per brand);
    `active` false stops sending it."""

    model = SurveySettings
    serializer_class = SurveySettingsSerializer
    read_role = "is_admin"
    write_role = "is_admin"

    def base_queryset(self):
        return SurveySettings.objects.order_by("brand__name", "pk")

    @staticmethod
    def service(survey_settings, actor, membership):
        return survey_settings_save(survey_settings=survey_settings, actor=actor, membership=membership)


STATS = inline_serializer(
    "SatisfactionFigures",
    {"days": serializers.IntegerField(), "total": serializers.DictField(), "groups": serializers.DictField()},
)


@extend_schema_view(
    list=extend_schema(summary="Satisfaction surveys sent, newest first, with their answers"),
    retrieve=extend_schema(summary="One survey", responses={200: SurveySerializer, 404: NOT_FOUND}),
)
class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = Survey
    serializer_class = SurveySerializer
    read_role = "can_view_dashboards"

    @extend_schema(summary="Satisfaction figures by agent, team, channel and brand", responses={200: STATS})
    @action(detail=False, methods=["get"])
    def figures(self, request):
        try:
            days = max(1, min(365, int(request.query_params.get("days") or 30)))
        except ValueError:
            return Response({"detail": "days is a whole number of days"}, status=400)
        stats = selectors.survey_stats(membership=self.membership, days=days)
        return Response(_jsonable(stats))


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
