"""The dashboards page and its CSV exports: parse the filters, call the selectors, render or stream."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial

from django.http import Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date

from apps.accounts.models import Brand
from apps.accounts.permissions import current_membership, dashboards_required
from apps.accounts.tenancy import get_visible_or_404, scoped
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from apps.conversations.selectors import InboxFilters, InboxQuery
from apps.core.spreadsheets import csv_lines
from apps.listening.models import Level
from apps.search.backends import SearchFilters
from apps.search.selectors import SearchRequest

from . import selectors
from .models import OWN_LEVEL
from .selectors import Filters
from .trends import BASELINE_DAYS

PRESETS = {"1d": 1, "7d": 7, "30d": 30, "90d": 90, "365d": 365}
DEFAULT_PRESET = "30d"
TABLE_ROWS = 20
SENTIMENT_COLOURS = {"negative": "#dc2626", "neutral": "#94a3b8", "positive": "#16a34a", "": "#e2e8f0"}


@dataclass(frozen=True)
class DashboardQuery:
    """The dashboard's querystring: brand, range (a preset or from/to), channel, language, level."""

    filters: Filters
    preset: str = ""
    problems: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, params: QueryDict, membership) -> DashboardQuery:
        problems = []
        brands = scoped(Brand, membership).order_by("name")
        brand_param = (params.get("brand") or "").strip()
        if brand_param:
            brand = get_visible_or_404(brands, membership, pk=brand_param)
        else:
            brand = brands.first()
            if brand is None:
                raise Http404("no brand")
        today = timezone.now().date()
        preset = (params.get("range") or "").strip()
        since, until = parse_date(params.get("from") or "") if params.get("from") else None, None
        if params.get("to"):
            until = parse_date(params["to"])
        if (params.get("from") and since is None) or (params.get("to") and until is None):
            problems.append("from / to: dates are written YYYY-MM-DD")
            since = until = None
        if since or until:
            preset, until = "", until or today
            since = since or until - timedelta(days=PRESETS[DEFAULT_PRESET] - 1)
            if until < since:
                problems.append("to: the end date is before the start date")
                since, until = until, since
        else:
            if preset and preset not in PRESETS:
                problems.append(f"range: “{preset[:20]}” is not one of {', '.join(PRESETS)}")
            preset = preset if preset in PRESETS else DEFAULT_PRESET
            until, since = today, today - timedelta(days=PRESETS[preset] - 1)
        channel_id = None
        if (params.get("channel") or "").strip():
            channel_id = get_visible_or_404(Channel, membership, pk=params["channel"].strip()).pk
        level = (params.get("level") or "").strip()
        if level and level not in Level.values:
            problems.append(f"level: “{level[:20]}” is not one of {', '.join(Level.values)}")
            level = ""
        language = (params.get("language") or "").strip()[:16]
        filters = Filters(
            brand_id=brand.pk, since=since, until=until, channel_id=channel_id, language=language, level=level
        )
        return cls(filters=filters, preset=preset, problems=tuple(problems))

    def querystring(self) -> str:
        given = self.filters
        params = QueryDict(mutable=True)
        params["brand"] = str(given.brand_id)
        if self.preset:
            params["range"] = self.preset
        else:
            params["from"], params["to"] = given.since.isoformat(), given.until.isoformat()
        for name, value in (
            ("channel", given.channel_id),
            ("language", given.language),
            ("level", given.level),
        ):
            if value not in (None, ""):
                params[name] = str(value)
        return params.urlencode()


def drill_down(membership) -> Callable[..., str]:
    """Where a figure leads: inbox_url() for those who work the inbox, else the same conversations on the
    read-only pages (apps/reader takes the inbox's querystring)."""
    return inbox_url if membership.can_work_inbox else partial(inbox_url, page="reader:conversations")


def inbox_url(
    filters: Filters,
    *,
    since: date | None = None,
    until: date | None = None,
    page: str = "inbox:index",
    **narrower,
) -> str:
    """The inbox view of the conversations behind a figure: the brand, the dashboard's channel and
    language, the range and `narrower` (channel, language, sentiment, intent, team).

    The figures count messages; the inbox lists conversations, by their current labels (those of their
    latest inbound message), their last activity in the range, and the statuses its views show. So a
    drill-down lists exactly the counted conversations when each has one message in the range, and
    otherwise the conversations the counted messages belong to as the inbox sees them now. A listening
    level other than to_brand, or a competitor, lists the conversations holding those mentions (the
    inbox's about/level/competitor filter) instead of the brand's own. The messages CSV lists exactly
    the counted messages."""
    values = {"channel": filters.channel_id, "language": filters.language, "level": filters.level, **narrower}
    # The brand's own conversations, unless the figure counts what listening tagged (a level other than
    # to_brand, or a competitor): then the conversations holding those mentions, wherever they are.
    listening = values["level"] not in ("", OWN_LEVEL) or values.get("competitor")
    query = InboxQuery(
        view="all",
        filters=InboxFilters(
            brand=None if listening else filters.brand_id,
            channel=values["channel"],
            language=values["language"] or "",
            sentiment=values.get("sentiment") or "",
            intent=values.get("intent") or "",
            date_from=since or filters.since,
            date_to=until or filters.until,
            about=filters.brand_id if listening else None,
            level=values["level"] if listening else "",
            competitor=values.get("competitor") or "",
            team=values.get("team"),
            needs_reply=values.get("needs_reply") or "",
        ),
    )
    return f"{reverse(page)}?{query.querystring()}"


def search_url(filters: Filters, query: str) -> str:
    """The search page's messages holding a term or hashtag of a table, in the dashboard's range, channel
    and language (the brand's own messages; any brand's for a listening level other than to_brand)."""
    listening = filters.level not in ("", OWN_LEVEL)
    search = SearchRequest(
        text=query,
        filters=SearchFilters(
            brand=None if listening else filters.brand_id,
            channel=filters.channel_id,
            language=filters.language,
            date_from=filters.since,
            date_to=filters.until,
        ),
    )
    return f"{reverse('search:index')}?{search.querystring()}"


def _daily_inbox_urls(
    filters: Filters, days: list[date], link: Callable[..., str] = inbox_url, **narrower
) -> list[str]:
    """inbox_url() for each day (a point of a time chart): built once and re-dated, since a year of points
    in several series would otherwise cost thousands of querystring builds per page."""
    if not days:
        return []
    first = days[0].isoformat()
    template = link(filters, since=days[0], until=days[0], **narrower)
    dated = f"from={first}&to={first}"
    if dated not in template:  # the inbox changed its querystring: build each one
        return [link(filters, since=day, until=day, **narrower) for day in days]
    return [template.replace(dated, f"from={day.isoformat()}&to={day.isoformat()}") for day in days]


@dashboards_required
def dashboard(request):
    membership = current_membership(request)
    if not request.GET.get("brand") and not scoped(Brand, membership).exists():
        return render(request, "analytics/no_brand.html", {"section": "dashboards"})
    query = DashboardQuery.parse(request.GET, membership)
    filters = query.filters
    drill = drill_down(membership)
    volume = selectors.volume_over_time(membership=membership, filters=filters)
    days = [moment.date() for moment, _ in volume]
    labels = [moment.strftime("%Y-%m-%d %H:00" if filters.hourly else "%Y-%m-%d") for moment, _ in volume]
    day_urls = _daily_inbox_urls(filters, days, drill)
    trend = selectors.sentiment_trend(membership=membership, filters=filters)
    voice = selectors.share_of_voice(membership=membership, filters=filters)
    brand = scoped(Brand, membership).get(pk=filters.brand_id)
    intents = selectors.intent_breakdown(membership=membership, filters=filters)
    channels = selectors.channel_mix(membership=membership, filters=filters)
    kind_labels = dict(ChannelKind.choices)
    languages = selectors.language_mix(membership=membership, filters=filters)
    charts = {
        "volume": {
            "type": "line",
            "labels": labels,
            "datasets": [{"label": "Messages", "data": [n for _, n in volume]}],
            "urls": [day_urls],
        },
        "sentiment": {
            "type": "bar",
            "stacked": True,
            "labels": labels,
            "datasets": [
                {
                    "label": sentiment or "not classified",
                    "data": [n for _, n in series],
                    "backgroundColor": SENTIMENT_COLOURS.get(sentiment, "#64748b"),
                }
                for sentiment, series in trend.items()
            ],
            "urls": [_daily_inbox_urls(filters, days, drill, sentiment=sentiment) for sentiment in trend],
        },
        "voice": _bars(
            [(competitor or brand.name, n) for competitor, n in voice],
            [
                drill(filters, level=Level.COMPETITOR, competitor=competitor)
                if competitor
                else drill(filters)
                for competitor, _ in voice
            ],
        ),
        "intents": _bars(
            [(intent or "not classified", n) for intent, n in intents],
            [drill(filters, intent=intent) if intent else None for intent, _ in intents],
        ),
        "channels": _bars(
            [
                (f"{row['name']} ({kind_labels.get(row['kind'], row['kind'])})", row["messages"])
                for row in channels
            ],
            [drill(filters, channel=row["channel_id"]) for row in channels],
        ),
        "languages": _bars(
            [(language or "unknown", n) for language, n in languages],
            [drill(filters, language=language) if language else None for language, _ in languages],
        ),
    }
    context = {
        "section": "dashboards",
        "query": query,
        "querystring": query.querystring(),
        "brand": brand,
        "brands": scoped(Brand, membership).only("name").order_by("name"),
        "channels": scoped(Channel, membership).filter(brand_id=filters.brand_id).order_by("name"),
        "levels": Level.choices,
        "presets": PRESETS,
        "total": sum(n for _, n in volume),
        "charts": charts,
        "inbox_url": drill(filters),
        "panels": [(name, titles) for name, (titles, _) in PANELS.items()],
    }
    return render(request, "analytics/dashboard.html", context)


def _terms_panel(membership, filters: Filters) -> dict:
    def linked(rows: list[tuple[str, int]]) -> list[tuple[str, int, str]]:
        return [(term, n, search_url(filters, term)) for term, n in rows]

    return {
        "terms": linked(selectors.top_terms(membership=membership, filters=filters, limit=TABLE_ROWS)),
        "hashtags": linked(
            selectors.top_terms(membership=membership, filters=filters, hashtags=True, limit=TABLE_ROWS)
        ),
    }


def _trends_panel(membership, filters: Filters) -> dict:
    rows = []
    for trend in selectors.emerging_terms(membership=membership, filters=filters, limit=TABLE_ROWS):
        # The drill-down: that day's messages in the trend's language holding the term (a phrase quoted).
        day = replace(filters, since=filters.until, language=trend.language)
        query = f'"{trend.term}"' if trend.kind == "phrase" else trend.term
        rows.append((trend, search_url(day, query)))
    return {"trends": rows, "trend_day": filters.until, "baseline_days": BASELINE_DAYS}


def _authors_panel(membership, filters: Filters) -> dict:
    authors, influencers = selectors.author_leaders(membership=membership, filters=filters, limit=TABLE_ROWS)
    return {"authors": authors, "influencers": influencers}


def _response_times_panel(by: str):
    def panel(membership, filters: Filters) -> dict:
        rows = selectors.response_times(membership=membership, filters=filters, by=by)
        drill = drill_down(membership)
        for row in rows:  # conversations without a team have no filter of their own
            row["url"] = drill(filters, **{by: row[f"{by}_id"]}) if row[f"{by}_id"] else ""
        return {"rows": rows}

    return panel


def _needs_reply_panel(membership, filters: Filters) -> dict:
    figures = selectors.needs_reply_figures(membership=membership, filters=filters)
    figures["rows"] = [
        (label, n, overruled, inbox_url(filters, needs_reply=value))
        for value, label, n, overruled in figures["decisions"]
    ]
    figures["held_back_percent"] = round(100 * figures["held_back_share"], 1)
    figures["overruled_percent"] = round(100 * figures["overruled_share"], 1)
    return figures


#: The page's slow panels (each reads a year of a brand's rows on long ranges): the page draws a placeholder
#: per panel, titled, which fetches `dashboard_panel` with the page's querystring once the page is shown.
#: Response times are two panels, fetched side by side: each sorts a year of conversations.
PANELS = {
    "terms": (("Top terms", "Top hashtags"), _terms_panel),
    "trends": (("Emerging terms",), _trends_panel),
    "authors": (("Top authors", "Influencers"), _authors_panel),
    "response-team": (("Response times by team",), _response_times_panel("team")),
    "response-channel": (("Response times by channel",), _response_times_panel("channel")),
    "needs-reply": (("Needs reply",), _needs_reply_panel),
}


@dashboards_required
def dashboard_panel(request, name: str):
    """One of the dashboard's PANELS, for the page's filters: the partial of the page's template."""
    if name not in PANELS:
        raise Http404("no such panel")
    membership = current_membership(request)
    query = DashboardQuery.parse(request.GET, membership)
    context = {
        "query": query,
        "querystring": query.querystring(),
        **PANELS[name][1](membership, query.filters),
    }
    return render(request, f"analytics/dashboard.html#panel-{name}", context)


def _bars(rows: list[tuple[str, int]], urls: list[str | None]) -> dict:
    return {
        "type": "bar",
        "labels": [label for label, _ in rows],
        "datasets": [{"label": "Messages", "data": [n for _, n in rows]}],
        "urls": [urls],
    }


# ------------------------------------------------------------------ CSV


def _export_rows(name: str, membership, filters: Filters) -> tuple[list[str], Iterable[Iterable]]:
    """The CSV of one table or figure: every row (no cap), read in chunks by a server-side cursor."""
    s = selectors
    figures = {
        "volume": lambda: (
            ["period_start_utc", "messages"],
            (
                (moment.isoformat(), n)
                for moment, n in s.volume_over_time(membership=membership, filters=filters)
            ),
        ),
        "sentiment": lambda: (
            ["period_start_utc", "sentiment", "messages"],
            (
                (moment.isoformat(), sentiment, n)
                for sentiment, series in s.sentiment_trend(membership=membership, filters=filters).items()
                for moment, n in series
            ),
        ),
        "voice": lambda: (
            ["competitor", "messages"],
            s.share_of_voice(membership=membership, filters=filters),
        ),
        "intents": lambda: (
            ["intent", "messages"],
            s.intent_breakdown(membership=membership, filters=filters),
        ),
        "languages": lambda: (
            ["language", "messages"],
            s.language_mix(membership=membership, filters=filters),
        ),
        "channels": lambda: (
            ["channel_id", "channel", "kind", "messages"],
            (
                (r["channel_id"], r["name"], r["kind"], r["messages"])
                for r in s.channel_mix(membership=membership, filters=filters)
            ),
        ),
        "terms": lambda: (
            ["term", "messages"],
            s.top_terms(membership=membership, filters=filters, limit=None).iterator(chunk_size=2000),
        ),
        "hashtags": lambda: (
            ["hashtag", "messages"],
            s.top_terms(membership=membership, filters=filters, hashtags=True, limit=None).iterator(
                chunk_size=2000
            ),
        ),
        "authors": lambda: _authors(s.top_authors(membership=membership, filters=filters, limit=None)),
        "influencers": lambda: _authors(
            s.top_authors(membership=membership, filters=filters, by="followers", limit=None)
        ),
        "response-team": lambda: _timings(
            s.response_times(membership=membership, filters=filters, by="team")
        ),
        "response-channel": lambda: _timings(
            s.response_times(membership=membership, filters=filters, by="channel")
        ),
        "messages": lambda: (
            [
                "message_id",
                "conversation_id",
                "sent_at",
                "channel_id",
                "language",
                "level",
                "sentiment",
                "intent",
                "text",
            ],
            s.brand_messages(membership=membership, filters=filters)
            .values_list(
                "pk",
                "conversation_id",
                "sent_at",
                "channel_id",
                "language",
                "pair_level",
                "sentiment",
                "intent",
                "text",
            )
            .iterator(chunk_size=2000),
        ),
    }
    if name not in figures:
        raise Http404("no such export")
    return figures[name]()


def _authors(rows) -> tuple[list[str], Iterable]:
    header = ["identity_id", "handle", "display_name", "kind", "followers", "verified", "messages"]
    return header, ([row[column] for column in header] for row in rows)


def _timings(rows: list[dict]) -> tuple[list[str], Iterable]:
    header = [
        "name",
        "conversations",
        "responded",
        "first_response_median_s",
        "first_response_p90_s",
        "resolved",
        "resolution_median_s",
        "resolution_p90_s",
    ]
    columns = [
        "name",
        "conversations",
        "responded",
        "first_response_median",
        "first_response_p90",
        "resolved",
        "resolution_median",
        "resolution_p90",
    ]
    return header, ([row[column] for column in columns] for row in rows)


@dashboards_required
def export(request, name: str):
    """One figure or table as CSV, with the page's filters: streamed, every row."""
    membership = current_membership(request)
    query = DashboardQuery.parse(request.GET, membership)
    header, rows = _export_rows(name, membership, query.filters)
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    given = query.filters
    filename = f"{name}-brand{given.brand_id}-{given.since.isoformat()}-{given.until.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
