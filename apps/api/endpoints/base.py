"""What every endpoint shares: the tenant-scoped viewset, the role test, the shapes of refusals.

Every queryset comes from `scoped(Model, membership)` (apps.accounts.tenancy), so a row of another
organisation, or of a brand the membership is not given, is a 404 (never a 403 that says it exists); a role
that may not do something gets a 403 for the whole endpoint.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse
from rest_framework import status, viewsets
from rest_framework.exceptions import APIException
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.accounts.tenancy import scoped
from apps.api import serializers as s
from apps.api.pagination import IdCursorPagination
from apps.api.permissions import RolePermission, api_membership

NOT_FOUND = OpenApiResponse(s.ErrorSerializer, description="Not found, or not visible to this membership.")
REFUSED = OpenApiResponse(s.ErrorSerializer, description="The service refused the action: `detail` says why.")
# The largest page of a conversation's thread or a customer's timeline returned at once.
THREAD_LIMIT = 500


class QueryInvalid(APIException):
    """A 400 whose detail is returned as given (DRF's ValidationError turns numbers into text)."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: dict):
        self.detail = detail


class TenantViewSet(viewsets.GenericViewSet):
    """A resource of one organisation: `model` is read through `scoped()`; `read_role` and `write_role`
    name the Membership property that a caller needs (None: any member)."""

    model = None
    read_role: str | None = "can_work_inbox"
    write_role: str | None = "can_work_inbox"
    permission_classes = [IsAuthenticated, RolePermission]
    pagination_class = IdCursorPagination
    filter_backends = [DjangoFilterBackend]

    @property
    def membership(self):
        return api_membership(self.request)

    def base_queryset(self):
        return self.model._default_manager.all()

    def get_queryset(self):
        return scoped(self.base_queryset(), self.membership)

    def refused(self, error: Exception, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
        """A service's refusal, in its own words."""
        message = " ".join(error.messages) if isinstance(error, DjangoValidationError) else str(error)
        return Response({"detail": message[:1].upper() + message[1:]}, status=code)
