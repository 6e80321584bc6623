"""Alert rules: read by every member, written by admins (as on the rules page). Alerts: read by every member
(the dashboards show them), acknowledged and resolved by the inbox roles."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.alerts.models import Alert, AlertRule
from apps.alerts.services import AlertRuleInvalid, alert_acknowledge, alert_resolve, alert_rule_save
from apps.api import filters
from apps.api import serializers as s

from .base import NOT_FOUND, REFUSED, TenantViewSet

RULE_SAVED = {200: s.AlertRuleSerializer, 400: REFUSED, 404: NOT_FOUND}


@extend_schema_view(
    list=extend_schema(summary="Alert rules of the brands"),
    retrieve=extend_schema(summary="One rule", responses={200: s.AlertRuleSerializer, 404: NOT_FOUND}),
    create=extend_schema(summary="Add a rule (admins)", responses={201: s.AlertRuleSerializer, 400: REFUSED}),
    partial_update=extend_schema(summary="Change a rule (admins)", responses=RULE_SAVED),
    update=extend_schema(summary="Replace a rule (admins)", responses=RULE_SAVED),
    destroy=extend_schema(summary="Delete a rule (admins)", responses={204: None, 404: NOT_FOUND}),
)
class AlertRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Saved through `alert_rule_save`, the rules page's service: the same checks, the same audit trail."""

    model = AlertRule
    serializer_class = s.AlertRuleSerializer
    filterset_class = filters.AlertRuleFilter
    read_role = None
    write_role = "is_admin"

    def base_queryset(self):
        return AlertRule.objects.prefetch_related("notify_members")

    def _save(self, serializer, rule: AlertRule, code: int) -> Response:
        data = dict(serializer.validated_data)
        members = data.pop("notify_members", None)
        for field, value in data.items():
            setattr(rule, field, value)
        try:
            rule = alert_rule_save(rule=rule, actor=self.request.user, notify_members=members)
        except AlertRuleInvalid as error:
            return self.refused(error)
        return Response(s.AlertRuleSerializer(rule, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = AlertRule(organization_id=self.membership.organization_id)
        return self._save(serializer, rule, status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        rule = self.get_object()
        serializer = self.get_serializer(rule, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self._save(serializer, rule, status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(summary="Alerts raised on the brands, newest first"),
    retrieve=extend_schema(summary="One alert", responses={200: s.AlertSerializer, 404: NOT_FOUND}),
)
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Alerts are read by every member (the dashboards show them); the inbox roles act on them, as on the
    alerts page."""

    model = Alert
    serializer_class = s.AlertSerializer
    filterset_class = filters.AlertFilter
    read_role = None

    def _done(self, alert: Alert) -> Response:
        return Response(s.AlertSerializer(alert).data)

    @extend_schema(summary="Acknowledge: someone is on it", request=None, responses={200: s.AlertSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._done(alert_acknowledge(alert=self.get_object(), actor=request.user))

    @extend_schema(summary="Resolve the alert", request=None, responses={200: s.AlertSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._done(alert_resolve(alert=self.get_object(), actor=request.user))
