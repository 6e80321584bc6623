"""Routing and SLAs over the API, through apps.routing.services: an agent's own availability, the admins'
agents, teams, SLA policies, business hours and holidays, and the SLA report."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Brand, Team
from apps.accounts.tenancy import scoped
from apps.connectors.kinds import ChannelKind
from apps.routing import selectors, services
from apps.routing.calendar import weekly_parse
from apps.routing.models import AgentProfile, Availability, BusinessHours, Holiday, SLAPolicy, TeamRouting

from .base import NOT_FOUND, REFUSED, QueryInvalid, TenantViewSet


class AgentProfileSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = AgentProfile
        fields = [
            "id",
            "user",
            "username",
            "status",
            "auto_away",
            "status_changed_at",
            "capacity",
            "languages",
            "channel_kinds",
            "last_assigned_at",
        ]
        read_only_fields = ["id", "user", "username", "auto_away", "status_changed_at", "last_assigned_at"]


class AvailabilitySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Availability.choices)
    auto = serializers.BooleanField(
        default=False, help_text="The client saw the agent idle, or active again."
    )


class _Scoped(serializers.PrimaryKeyRelatedField):
    """A related object of the caller's own organisation (others do not exist for them)."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        from apps.api.permissions import api_membership

        return scoped(self.model, api_membership(self.context["request"]))


class SLAPolicySerializer(serializers.ModelSerializer):
    brand = _Scoped(Brand, allow_null=True, required=False)
    business_hours = _Scoped(BusinessHours, allow_null=True, required=False)

    class Meta:
        model = SLAPolicy
        fields = [
            "id",
            "name",
            "brand",
            "channel_kind",
            "priority_level",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "business_hours",
            "warn_before_minutes",
            "escalate_notify",
            "escalate_reassign",
            "escalate_raise_priority",
        ]


class HolidaySerializer(serializers.ModelSerializer):
    class Meta:
        model = Holiday
        fields = ["id", "date", "name"]


class BusinessHoursSerializer(serializers.ModelSerializer):
    brand = _Scoped(Brand, allow_null=True, required=False)
    team = _Scoped(Team, allow_null=True, required=False)
    holidays = HolidaySerializer(many=True, read_only=True)

    class Meta:
        model = BusinessHours
        fields = ["id", "name", "brand", "team", "timezone", "weekly", "holidays"]

    def validate_weekly(self, value):
        try:
            weekly_parse(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None
        return value


class TeamRoutingSerializer(serializers.Serializer):
    team = serializers.IntegerField(read_only=True, source="pk")
    name = serializers.CharField(read_only=True)
    strategy = serializers.ChoiceField(choices=TeamRouting.Strategy.choices)
    position = serializers.IntegerField(min_value=0, default=0)
    brands = serializers.ListField(child=serializers.IntegerField(), default=list)
    channel_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=ChannelKind.choices), default=list
    )
    languages = serializers.ListField(child=serializers.CharField(max_length=16), default=list)
    business_hours = serializers.IntegerField(allow_null=True, default=None)


def _team_routing(team) -> dict:
    routing = TeamRouting.objects.filter(team=team).prefetch_related("brands").first()
    return {
        "team": team.pk,
        "name": team.name,
        "strategy": routing.strategy if routing else TeamRouting.Strategy.MANUAL,
        "position": routing.position if routing else 0,
        "brands": [brand.pk for brand in routing.brands.all()] if routing else [],
        "channel_kinds": routing.channel_kinds if routing else [],
        "languages": routing.languages if routing else [],
        "business_hours": routing.business_hours_id if routing else None,
    }


@extend_schema_view(
    list=extend_schema(summary="Agents' availability, capacity and skills (admins)"),
    retrieve=extend_schema(
        summary="One agent's routing", responses={200: AgentProfileSerializer, 404: NOT_FOUND}
    ),
    partial_update=extend_schema(
        summary="Change an agent's status, capacity or skills (admins of every brand the agent works on)",
        responses={200: AgentProfileSerializer, 400: REFUSED, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class AgentProfileViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, TenantViewSet
):
    model = AgentProfile
    serializer_class = AgentProfileSerializer
    read_role = "is_admin"
    write_role = "is_admin"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self):
        return AgentProfile.objects.select_related("user", "membership")

    def partial_update(self, request, *args, **kwargs):
        profile = self.get_object()
        given = self.get_serializer(profile, data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            services.agent_reach_check(self.membership, profile)
        except services.SettingOutOfReach as error:
            return self.refused(error, status.HTTP_403_FORBIDDEN)
        try:
            services.agent_profile_update(
                profile=profile,
                actor=request.user,
                capacity=data.get("capacity"),
                languages=data.get("languages"),
                channel_kinds=data.get("channel_kinds"),
            )
            if "status" in data:
                profile = services.availability_set(
                    membership=profile.membership, status=data["status"], actor=request.user
                )
        except (DjangoValidationError, ValueError) as error:
            return self.refused(error)
        profile.refresh_from_db()
        return Response(AgentProfileSerializer(profile).data)

    @extend_schema(
        summary="My availability (GET), or set it (POST: online, away, busy, offline); any inbox role",
        request=AvailabilitySerializer,
        responses={200: AgentProfileSerializer, 400: REFUSED},
    )
    @action(detail=False, methods=["get", "post"], url_path="me", permission_classes=[])
    def me(self, request):
        membership = self.membership
        if membership is None or not membership.can_work_inbox:
            return Response({"detail": "your role in this organisation does not allow this"}, status=403)
        if request.method == "POST":
            given = AvailabilitySerializer(data=request.data)
            given.is_valid(raise_exception=True)
            services.availability_set(
                membership=membership,
                status=given.validated_data["status"],
                actor=request.user,
                auto=given.validated_data["auto"],
            )
        return Response(AgentProfileSerializer(services.agent_profile_get(membership)).data)

    def get_permissions(self):
        if self.action == "me":
            from rest_framework.permissions import IsAuthenticated

            return [IsAuthenticated()]
        return super().get_permissions()


class _SettingDeletion(mixins.DestroyModelMixin):
    """Deleting a routing setting through the service (audit, cache, the reach check: refused with 403)."""

    def perform_destroy(self, instance):
        services.routing_setting_delete(
            instance=instance, actor=self.request.user, membership=self.membership
        )

    def destroy(self, request, *args, **kwargs):
        try:
            return super().destroy(request, *args, **kwargs)
        except DjangoValidationError as error:
            return self.refused(error, status.HTTP_403_FORBIDDEN)


class _SettingViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    _SettingDeletion,
    TenantViewSet,
):
    """Admins' CRUD of one kind of routing setting, saved and deleted through the services (audit, cache)."""

    read_role = "is_admin"
    write_role = "is_admin"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        instance = self.model(organization=self.membership.organization, **serializer.validated_data)
        serializer.instance = services.routing_setting_save(
            instance=instance, actor=self.request.user, membership=self.membership
        )

    def perform_update(self, serializer):
        instance = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(instance, name, value)
        services.routing_setting_save(instance=instance, actor=self.request.user, membership=self.membership)

    def create(self, request, *args, **kwargs):
        try:
            return super().create(request, *args, **kwargs)
        except DjangoValidationError as error:
            return self.refused(error)

    def partial_update(self, request, *args, **kwargs):
        try:
            return super().partial_update(request, *args, **kwargs)
        except DjangoValidationError as error:
            return self.refused(error)


@extend_schema_view(
    list=extend_schema(summary="SLA policies (admins)"),
    create=extend_schema(summary="Add an SLA policy", responses={201: SLAPolicySerializer, 400: REFUSED}),
)
class SLAPolicyViewSet(_SettingViewSet):
    model = SLAPolicy
    serializer_class = SLAPolicySerializer


@extend_schema_view(
    list=extend_schema(summary="Business hours, with their holidays (admins)"),
    create=extend_schema(
        summary="Add business hours", responses={201: BusinessHoursSerializer, 400: REFUSED}
    ),
)
class BusinessHoursViewSet(_SettingViewSet):
    model = BusinessHours
    serializer_class = BusinessHoursSerializer

    def base_queryset(self):
        return BusinessHours.objects.prefetch_related("holidays")

    @extend_schema(
        summary="Add a holiday (a closed day) to these hours",
        request=HolidaySerializer,
        responses={201: HolidaySerializer, 400: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def holidays(self, request, pk=None):
        calendar = self.get_object()
        given = HolidaySerializer(data=request.data)
        given.is_valid(raise_exception=True)
        holiday = Holiday(calendar=calendar, organization=calendar.organization, **given.validated_data)
        try:
            services.routing_setting_save(instance=holiday, actor=request.user, membership=self.membership)
        except DjangoValidationError as error:
            return self.refused(error)
        return Response(HolidaySerializer(holiday).data, status=status.HTTP_201_CREATED)


@extend_schema_view(destroy=extend_schema(summary="Remove a holiday (admins)"))
class HolidayViewSet(_SettingDeletion, TenantViewSet):
    model = Holiday
    serializer_class = HolidaySerializer
    read_role = "is_admin"
    write_role = "is_admin"
    http_method_names = ["delete", "options"]


@extend_schema_view(
    list=extend_schema(summary="Each team's auto-assignment (admins)"),
    partial_update=extend_schema(
        summary="Change a team's auto-assignment (admins of every brand)",
        responses={200: TeamRoutingSerializer, 403: REFUSED},
    ),
)
class TeamRoutingViewSet(mixins.ListModelMixin, TenantViewSet):
    model = Team
    serializer_class = TeamRoutingSerializer
    read_role = "is_admin"
    write_role = "is_admin"
    http_method_names = ["get", "patch", "head", "options"]
    pagination_class = None

    def list(self, request):
        return Response([_team_routing(team) for team in self.get_queryset().order_by("name")])

    def retrieve(self, request, pk=None):
        return Response(_team_routing(self.get_object()))

    def partial_update(self, request, pk=None):
        team = self.get_object()
        try:
            services.setting_reach_check(self.membership, None)
        except services.SettingOutOfReach as error:
            return self.refused(error, status.HTTP_403_FORBIDDEN)
        given = TeamRoutingSerializer(data={**_team_routing(team), **request.data})
        given.is_valid(raise_exception=True)
        data = given.validated_data
        brands = list(scoped(Brand, self.membership).filter(pk__in=data["brands"]))
        hours = None
        if data["business_hours"] is not None:
            hours = scoped(BusinessHours, self.membership).filter(pk=data["business_hours"]).first()
            if hours is None:
                raise QueryInvalid({"business_hours": "no such business hours"})
        services.team_routing_save(
            team=team,
            actor=request.user,
            strategy=data["strategy"],
            position=data["position"],
            brands=brands,
            channel_kinds=data["channel_kinds"],
            languages=data["languages"],
            business_hours=hours,
        )
        return Response(_team_routing(team))


class ChannelWeightsSerializer(serializers.Serializer):
    weights = serializers.DictField(
        child=serializers.FloatField(min_value=0.1, max_value=10),
        help_text="How much an open conversation of each channel kind weighs in an agent's capacity "
        "(kinds left out: their default).",
    )


@extend_schema_view(
    list=extend_schema(
        summary="The weight of each channel kind in agents' capacity (admins)",
        responses={200: ChannelWeightsSerializer},
    ),
    create=extend_schema(
        summary="Set the weights (admins of every brand: they are the organisation's)",
        request=ChannelWeightsSerializer,
        responses={200: ChannelWeightsSerializer, 400: REFUSED, 403: REFUSED},
    ),
)
class ChannelWeightsViewSet(TenantViewSet):
    """The organisation's channel weights (one setting, like the field on /org/routing/)."""

    read_role = "is_admin"
    write_role = "is_admin"
    pagination_class = None
    filter_backends = []
    serializer_class = ChannelWeightsSerializer

    def _current(self):
        weights = selectors.channel_weights(self.membership.organization)
        return {"weights": {kind: weights.get(kind, 1.0) for kind in ChannelKind.values}}

    def list(self, request):
        return Response(self._current())

    def create(self, request):
        try:
            services.setting_reach_check(self.membership, None)
        except services.SettingOutOfReach as error:
            return self.refused(error, status.HTTP_403_FORBIDDEN)
        given = ChannelWeightsSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            services.channel_weights_set(
                organization=self.membership.organization,
                weights=given.validated_data["weights"],
                actor=request.user,
            )
        except ValueError as error:
            return self.refused(error)
        return Response(self._current())


class SLARateSerializer(serializers.Serializer):
    name = serializers.CharField()
    total = serializers.IntegerField()
    met = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)


class SLAReportViewSet(TenantViewSet):
    read_role = None
    pagination_class = None
    filter_backends = []  # rows from routing.selectors, not a model's queryset

    @extend_schema(
        summary="SLA met % by team, agent, channel or brand (`by`) over the last `days` days",
        parameters=[
            OpenApiParameter("by", enum=["team", "agent", "channel", "brand"]),
            OpenApiParameter("days", int),
        ],
        responses={200: SLARateSerializer(many=True)},
    )
    def list(self, request):
        by = request.query_params.get("by", "team")
        if by not in ("team", "agent", "channel", "brand"):
            raise QueryInvalid({"by": "one of team, agent, channel, brand"})
        try:
            days = int(request.query_params.get("days", 30))
        except ValueError:
            raise QueryInvalid({"days": "a whole number of days"}) from None
        if not 1 <= days <= 366:
            raise QueryInvalid({"days": "from 1 to 366"})
        membership = self.membership
        rows = selectors.sla_met_rates(
            organization=membership.organization,
            since=timezone.now() - timedelta(days=days),
            by=by,
            brand_ids=membership.brand_ids if membership.limited_to_brands else None,
        )
        return Response(rows)
