"""Listening queries: read by every member, written by admins; syntax errors say where."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api import filters
from apps.api import serializers as s
from apps.listening.models import ListeningQuery
from apps.listening.query import QuerySyntaxError
from apps.listening.services import listening_preview

from .base import NOT_FOUND, QueryInvalid, TenantViewSet


@extend_schema_view(
    list=extend_schema(summary="Listening queries of the brands"),
    retrieve=extend_schema(summary="One query", responses={200: s.ListeningQuerySerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Add a query (admins); a syntax error says its position",
        responses={201: s.ListeningQuerySerializer, 400: s.ListeningQueryErrorSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a query (admins)",
        responses={200: s.ListeningQuerySerializer, 400: s.ListeningQueryErrorSerializer, 404: NOT_FOUND},
    ),
    update=extend_schema(
        summary="Replace a query (admins)",
        responses={200: s.ListeningQuerySerializer, 400: s.ListeningQueryErrorSerializer, 404: NOT_FOUND},
    ),
    destroy=extend_schema(summary="Delete a query (admins)", responses={204: None, 404: NOT_FOUND}),
)
class ListeningQueryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    model = ListeningQuery
    serializer_class = s.ListeningQuerySerializer
    filterset_class = filters.ListeningQueryFilter
    read_role = None
    write_role = "is_admin"

    @staticmethod
    def _validated(serializer) -> None:
        """Like is_valid(raise_exception=True), with the query's syntax error as {"position": 12, "message":
        "…"}: numbers stay numbers, where DRF's ValidationError would turn them into text."""
        if not serializer.is_valid():
            errors = dict(serializer.errors)
            if serializer.syntax_error is not None:
                error = serializer.syntax_error
                errors["query"] = {"position": error.position, "message": error.message}
            raise QueryInvalid(errors)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        self._validated(serializer)
        self.perform_create(serializer)
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        self._validated(serializer)
        serializer.save()
        return Response(serializer.data)

    def perform_create(self, serializer):
        serializer.save(organization_id=self.membership.organization_id)

    @extend_schema(
        summary="What a query would match among the stored messages, before saving it (admins)",
        request=s.ListeningPreviewInput,
        responses={200: s.ListeningPreviewSerializer, 400: s.ListeningQueryErrorSerializer},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def preview(self, request):
        given = s.ListeningPreviewInput(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            preview = listening_preview(membership=self.membership, query=given.validated_data["query"])
        except QuerySyntaxError as error:
            raise QueryInvalid({"query": {"position": error.position, "message": error.message}}) from error
        return Response(s.ListeningPreviewSerializer(preview).data)
