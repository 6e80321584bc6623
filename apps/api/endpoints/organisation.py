"""Brands and channels: read by every member; changed by admins through their apps' services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.accounts.models import Brand
from apps.accounts.services import brand_update
from apps.api import filters
from apps.api import serializers as s
from apps.api.permissions import AdminActionPermission
from apps.connectors.models import Channel
from apps.connectors.services import channel_set_status

from .base import NOT_FOUND, TenantViewSet


@extend_schema_view(
    list=extend_schema(summary="The brands this membership works on"),
    retrieve=extend_schema(summary="One brand", responses={200: s.BrandSerializer, 404: NOT_FOUND}),
    partial_update=extend_schema(
        summary="Change a brand's name or listening terms (admins)",
        responses={
            200: s.BrandSerializer,
            400: OpenApiResponse(description="Invalid values"),
            404: NOT_FOUND,
        },
    ),
)
class BrandViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, TenantViewSet):
    model = Brand
    serializer_class = s.BrandSerializer
    read_role = None
    write_role = "is_admin"
    http_method_names = ["get", "patch", "head", "options"]

    def perform_update(self, serializer):
        try:
            serializer.instance = brand_update(
                brand=serializer.instance, actor=self.request.user, **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise ValidationError(
                error.message_dict if hasattr(error, "message_dict") else error.messages
            ) from error


@extend_schema_view(
    list=extend_schema(summary="Channels (credentials are never returned)"),
    retrieve=extend_schema(summary="One channel", responses={200: s.ChannelSerializer, 404: NOT_FOUND}),
)
class ChannelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = Channel
    serializer_class = s.ChannelSerializer
    filterset_class = filters.ChannelFilter
    read_role = None
    write_role = "is_admin"

    def base_queryset(self):
        return Channel.objects.only(*s.ChannelSerializer.Meta.fields, "organization")

    def _set_status(self, status_wanted: str) -> Response:
        channel = self.get_object()
        channel = channel_set_status(channel=channel, status=status_wanted, actor=self.request.user)
        return Response(s.ChannelSerializer(channel).data)

    @extend_schema(
        summary="Pause the channel: no polling, no sending (admins)",
        request=None,
        responses={200: s.ChannelSerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, AdminActionPermission])
    def pause(self, request, pk=None):
        return self._set_status(Channel.Status.PAUSED)

    @extend_schema(
        summary="Resume a paused channel (admins)",
        request=None,
        responses={200: s.ChannelSerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, AdminActionPermission])
    def resume(self, request, pk=None):
        return self._set_status(Channel.Status.ACTIVE)
