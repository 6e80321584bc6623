"""Customers and identities: search, the profile, the 360° timeline; export and erasure for admins."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.api import filters
from apps.api import serializers as s
from apps.api.permissions import role_permission
from apps.customers.models import Customer, Identity
from apps.customers.selectors import customer_export, customer_list, customer_timeline
from apps.customers.services import customer_erase, customer_update

from .base import NOT_FOUND, REFUSED, THREAD_LIMIT, TenantViewSet


class CustomerChangeSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=200, required=False)
    attributes = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text='Attributes to set (others are kept), e.g. from a CRM: {"plan": "vip"}.',
    )

    def validate_attributes(self, value):
        if len(value) > 50:
            raise serializers.ValidationError("at most 50 attributes at once")
        for key, item in value.items():
            if not key or len(key) > 64:
                raise serializers.ValidationError("attribute names are 1 to 64 characters")
            if item is not None and not isinstance(item, str | int | float | bool):
                raise serializers.ValidationError(f"{key}: a text, a number, true/false or null")
        return value


@extend_schema_view(
    list=extend_schema(
        summary="Customers (merged and erased profiles left out)",
        parameters=[OpenApiParameter("q", str, description="Name or handle contains, or email is, this.")],
    ),
    retrieve=extend_schema(
        summary="One customer with identities and attributes",
        responses={200: s.CustomerDetailSerializer, 404: NOT_FOUND},
    ),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = Customer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        return s.CustomerListSerializer if self.action == "list" else s.CustomerDetailSerializer

    @extend_schema(
        summary="Change the customer's name or attributes (attributes given are set, others kept)",
        request=CustomerChangeSerializer,
        responses={200: s.CustomerDetailSerializer, 400: REFUSED, 404: NOT_FOUND},
    )
    def partial_update(self, request, pk=None):
        customer = self.get_object()
        given = CustomerChangeSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            customer_update(
                customer=customer,
                actor=request.user,
                display_name=given.validated_data.get("display_name"),
                attributes=given.validated_data.get("attributes"),
            )
        except DjangoValidationError as error:
            return self.refused(error)
        return Response(s.CustomerDetailSerializer(self.get_object()).data)

    def get_queryset(self):
        if self.action == "list":
            query = serializers.CharField(max_length=200, required=False, allow_blank=True).run_validation(
                self.request.query_params.get("q", "")
            )
            return customer_list(membership=self.membership, query=query.strip())
        return (
            super()
            .get_queryset()
            .prefetch_related(
                Prefetch("identities", queryset=Identity.objects.order_by("kind", "-followers", "pk"))
            )
        )

    @extend_schema(
        summary="The 360° timeline: every message on every channel and the profile's events, newest first",
        responses={200: s.TimelineEntrySerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request, pk=None):
        customer = self.get_object()
        entries = customer_timeline(customer=customer, membership=self.membership, limit=THREAD_LIMIT)
        return Response(s.TimelineEntrySerializer(entries, many=True).data)

    @extend_schema(
        summary="Everything held about the person, as JSON (right of access; admins)",
        responses={200: OpenApiTypes.OBJECT, 404: NOT_FOUND},
    )
    @action(
        detail=True,
        methods=["get"],
        permission_classes=[IsAuthenticated, role_permission("can_handle_personal_data")],
    )
    def export(self, request, pk=None):
        return Response(customer_export(customer=self.get_object(), membership=self.membership))

    @extend_schema(
        summary="Erase the person: redact their words, remove their identities (admins; cannot be undone)",
        request=None,
        responses={200: s.EraseSummarySerializer, 404: NOT_FOUND},
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[IsAuthenticated, role_permission("can_handle_personal_data")],
    )
    def erase(self, request, pk=None):
        return Response(customer_erase(customer=self.get_object(), actor=request.user))


@extend_schema_view(
    list=extend_schema(summary="Identities of customers on each channel"),
    retrieve=extend_schema(summary="One identity", responses={200: s.IdentitySerializer, 404: NOT_FOUND}),
)
class IdentityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = Identity
    serializer_class = s.IdentitySerializer
    filterset_class = filters.IdentityFilter
