"""Outbound webhook endpoints and their delivery log, for admins, through apps.webhooks.services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api import filters
from apps.api import serializers as s
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from apps.webhooks.services import (
    EndpointRefused,
    delivery_redeliver,
    endpoint_create,
    endpoint_rotate_secret,
    endpoint_update,
    test_event_send,
)

from .base import NOT_FOUND, REFUSED, TenantViewSet


@extend_schema_view(
    list=extend_schema(summary="The organisation's webhook endpoints (admins; secrets never shown)"),
    retrieve=extend_schema(
        summary="One endpoint", responses={200: s.WebhookEndpointSerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Add an endpoint; the response holds its signing secret, shown this once",
        responses={201: s.WebhookEndpointCreatedSerializer, 400: REFUSED},
    ),
    partial_update=extend_schema(
        summary="Change an endpoint (URL, events, description, active)",
        responses={200: s.WebhookEndpointSerializer, 400: REFUSED, 404: NOT_FOUND},
    ),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantViewSet,
):
    model = WebhookEndpoint
    serializer_class = s.WebhookEndpointSerializer
    read_role = "is_admin"
    write_role = "is_admin"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def create(self, request, *args, **kwargs):
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            endpoint, secret = endpoint_create(
                organization=self.membership.organization,
                url=given.validated_data["url"],
                events=given.validated_data["events"],
                description=given.validated_data.get("description", ""),
                actor=request.user,
            )
        except EndpointRefused as error:
            return self.refused(error)
        body = {**s.WebhookEndpointSerializer(endpoint).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        given = self.get_serializer(endpoint, data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        wanted = {
            "url": endpoint.url,
            "events": endpoint.events,
            "description": endpoint.description,
            "active": endpoint.active,
            **given.validated_data,
        }
        try:
            endpoint = endpoint_update(endpoint=endpoint, actor=request.user, **wanted)
        except EndpointRefused as error:
            return self.refused(error)
        return Response(s.WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        summary="A new signing secret, effective at once (the old one stops working)",
        request=None,
        responses={200: s.WebhookSecretSerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        return Response({"secret": endpoint_rotate_secret(endpoint=self.get_object(), actor=request.user)})

    @extend_schema(
        summary="Send a test event (ping) to the endpoint",
        request=None,
        responses={201: s.WebhookDeliverySerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = test_event_send(endpoint=self.get_object(), actor=request.user)
        return Response(s.WebhookDeliverySerializer(delivery).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="The delivery log of the organisation's endpoints, newest first (admins)"),
    retrieve=extend_schema(
        summary="One delivery", responses={200: s.WebhookDeliverySerializer, 404: NOT_FOUND}
    ),
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = WebhookDelivery
    serializer_class = s.WebhookDeliverySerializer
    filterset_class = filters.WebhookDeliveryFilter
    read_role = "is_admin"
    write_role = "is_admin"

    @extend_schema(
        summary="Send the delivery's event again, as a new delivery",
        request=None,
        responses={201: s.WebhookDeliverySerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        again = delivery_redeliver(delivery=self.get_object(), actor=request.user)
        return Response(s.WebhookDeliverySerializer(again).data, status=status.HTTP_201_CREATED)
