"""The dashboards' figures of one brand over a range, from apps.analytics.selectors."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.accounts.models import Brand
from apps.accounts.tenancy import get_visible_or_404
from apps.analytics import selectors as analytics
from apps.analytics.selectors import Filters
from apps.api import serializers as s
from apps.connectors.models import Channel

from .base import NOT_FOUND, TenantViewSet

# The longest lists of terms and hashtags returned (as on the dashboard page).
TOP = 20


def _points(rows) -> list[dict]:
    return [{"at": moment, "messages": messages} for moment, messages in rows]


def _counts(rows) -> list[dict]:
    return [{"label": label or "", "messages": messages} for label, messages in rows]


class DashboardViewSet(TenantViewSet):
    """The dashboards' figures for one brand and range, from apps.analytics.selectors (the same rollups as
    the dashboard page)."""

    read_role = "can_view_dashboards"
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="Dashboard figures of one brand over a range of UTC days",
        parameters=[s.DashboardInput],
        responses={200: s.DashboardSerializer, 400: OpenApiResponse(description="Invalid"), 404: NOT_FOUND},
    )
    def list(self, request):
        given = s.DashboardInput(data=request.query_params)
        given.is_valid(raise_exception=True)
        wanted = given.validated_data
        brand = get_visible_or_404(Brand, self.membership, pk=wanted["brand"])
        channel_id = None
        if wanted.get("channel"):
            channel_id = get_visible_or_404(Channel, self.membership, pk=wanted["channel"]).pk
        figures = Filters(
            brand_id=brand.pk,
            since=wanted["since"],
            until=wanted["until"],
            channel_id=channel_id,
            language=wanted.get("language", ""),
            level=wanted.get("level", ""),
        )
        asked = {"membership": self.membership, "filters": figures}
        body = {
            "brand": brand.pk,
            "since": figures.since,
            "until": figures.until,
            "hourly": figures.hourly,
            "volume_total": analytics.volume_total(**asked),
            "volume_over_time": _points(analytics.volume_over_time(**asked)),
            "sentiment_trend": [
                {"sentiment": sentiment, "points": _points(points)}
                for sentiment, points in analytics.sentiment_trend(**asked).items()
            ],
            "intents": _counts(analytics.intent_breakdown(**asked)),
            "languages": _counts(analytics.language_mix(**asked)),
            "levels": _counts(analytics.level_mix(**asked)),
            "share_of_voice": _counts(analytics.share_of_voice(**asked)),
            "channels": analytics.channel_mix(**asked),
            "top_terms": _counts(analytics.top_terms(**asked, limit=TOP)),
            "top_hashtags": _counts(analytics.top_terms(**asked, hashtags=True, limit=TOP)),
        }
        return Response(s.DashboardSerializer(body).data)
