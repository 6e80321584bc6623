from django.db.models import QuerySet

from apps.accounts.tenancy import scoped

from .models import Channel


def channel_list(*, membership) -> QuerySet[Channel]:
    return scoped(Channel, membership).select_related("brand").order_by("brand__name", "kind", "name")


def channel_health(*, membership):
    """Each channel with its received / rejected payload counts and how long since its last fetch."""
    from django.db.models import Count, Q

    from apps.ingestion.models import RawPayload

    return channel_list(membership=membership).annotate(
        received_count=Count("raw_payloads", filter=Q(raw_payloads__status=RawPayload.Status.RECEIVED)),
        rejected_count=Count("raw_payloads", filter=Q(raw_payloads__status=RawPayload.Status.REJECTED)),
        processed_count=Count(
            "raw_payloads",
            filter=Q(raw_payloads__status__in=[RawPayload.Status.PROCESSED, RawPayload.Status.APPLIED]),
        ),
    )


def channel_rejected_payloads(*, channel, limit: int = 50):
    from apps.ingestion.models import RawPayload

    return RawPayload.objects.filter(channel=channel, status=RawPayload.Status.REJECTED).order_by(
        "-received_at"
    )[:limit]


def channel_ignored_events(*, channel) -> list[dict]:
    """The channel's ignored payloads counted by event type, most frequent first, each with the reason
    given for its latest one: {"event_type", "count", "last_seen", "reason"}."""
    from django.db.models import Count, Max

    from apps.ingestion.models import RawPayload

    ignored = RawPayload.objects.filter(channel=channel, status=RawPayload.Status.IGNORED)
    by_type = ignored.values("event_type").annotate(count=Count("id"), last_seen=Max("received_at"))
    events = list(by_type.order_by("-count"))
    for event in events:
        event["reason"] = (
            ignored.filter(event_type=event["event_type"])
            .order_by("-received_at")
            .values_list("ignored_reason", flat=True)
            .first()
        )
    return events
