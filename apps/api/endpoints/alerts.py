"""Alerts: read by every member (the dashboards show them), acknowledged and resolved by the inbox roles."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.alerts.models import Alert
from apps.alerts.services import alert_acknowledge, alert_resolve
from apps.api import filters
from apps.api import serializers as s

from .base import NOT_FOUND, TenantViewSet


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
