from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.accounts.tenancy import scoped
from apps.conversations.models import Message


def brand_overview(*, membership, days: int = 90) -> dict:
    """Inbound volume per day and per brand, with the channel and language mix, over the last `days`."""
    since = timezone.now() - timedelta(days=days)
    inbound = scoped(Message, membership).filter(direction=Message.Direction.INBOUND, sent_at__gte=since)
    per_day = (
        inbound.annotate(day=TruncDate("sent_at"))
        .values("day", "conversation__brand__name")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    days_axis = [(since + timedelta(days=i)).date() for i in range(days + 1)]
    series: dict[str, dict] = {}
    for row in per_day:
        series.setdefault(row["conversation__brand__name"], {})[row["day"]] = row["n"]
    return {
        "total": inbound.count(),
        "labels": [day.isoformat() for day in days_axis],
        "series": [
            {"label": brand, "data": [counts.get(day, 0) for day in days_axis]}
            for brand, counts in sorted(series.items())
        ],
        "channels": list(inbound.values("channel__kind").annotate(n=Count("pk")).order_by("-n")),
        "languages": list(inbound.values("language").annotate(n=Count("pk")).order_by("-n")),
    }
