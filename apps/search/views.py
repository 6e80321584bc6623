from dataclasses import replace

from django.contrib.auth.decorators import user_passes_test
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.models import Brand
from apps.accounts.permissions import current_membership, dashboards_required
from apps.accounts.tenancy import scoped
from apps.classification.language import DEFAULT_LANGUAGES
from apps.classification.models import Sentiment, Task
from apps.classification.selectors import label_choices
from apps.connectors.models import Channel
from apps.core.parsing import ascii_int
from apps.listening.query import QuerySyntaxError

from .backends import get_backend
from .selectors import SearchRequest, message_search
from .tasks import REINDEX_PROGRESS_KEY, reindex_task

# The id of the results' container, swapped by the form and the pager (htmx).
RESULTS_ID = "search-results"


@dashboards_required
def index(request):
    """Search messages with the listening query syntax. htmx requests get only the results.

    Members who do not work the inbox (marketers) search too: their hits open the read-only pages
    (apps/reader), and internal notes are not among them."""
    membership = current_membership(request)
    intent_labels = label_choices(organization_id=membership.organization_id)[Task.INTENT]
    search = SearchRequest.parse(request.GET, intent_labels=intent_labels)
    results, error = None, None
    if search.text:
        try:
            results = message_search(
                membership=membership, query=search.text, filters=search.filters, page=search.page
            )
        except QuerySyntaxError as problem:
            error = problem
    reads_only = not membership.can_work_inbox
    if results and reads_only:
        results.hits = [hit for hit in results.hits if hit.direction != "note"]
    channels = {c.pk: c for c in scoped(Channel, membership).only("name", "kind")}
    context = {
        "section": "search",
        "search": search,
        "results": results,
        "error": error,
        "channels": channels,
        "facets": _facets(search, results, channels),
        "pager": _pager(search, results),
        "conversation_path": reverse(
            "reader:conversation" if reads_only else "inbox:conversation", args=[0]
        ).removesuffix("0/"),
    }
    if request.htmx and not request.htmx.boosted:
        response = render(request, "search/index.html#results", context)
        response["HX-Push-Url"] = f"{reverse('search:index')}?{search.querystring()}"
        return response
    context["choices"] = {
        "brands": scoped(Brand, membership).only("name").order_by("name"),
        "channels": sorted(channels.values(), key=lambda channel: channel.name),
        "languages": sorted(DEFAULT_LANGUAGES),
        "sentiments": Sentiment.values,
        "intents": intent_labels,
    }
    return render(request, "search/index.html", context)


def _facets(search: SearchRequest, results, channels) -> list[dict]:
    """Facet counts, each a link that adds its value to the filters (none for the value already chosen,
    nor for "unknown")."""
    if not results:
        return []
    shown = []
    for name, label in (("channel", "Channel"), ("language", "Language"), ("sentiment", "Sentiment")):
        chosen = getattr(search.filters, name)
        values = []
        for value, count in results.facets.get(name, []):
            item = {"value": value, "label": value or "unknown", "count": count, "href": None}
            if name == "channel":
                channel = channels.get(ascii_int(str(value)))
                item["label"] = channel.name if channel else value
                value = ascii_int(str(value))
            if value not in (None, "") and value != chosen:
                narrowed = replace(search.filters, **{name: value})
                item["href"] = "?" + search.querystring(filters=narrowed, page=1)
            values.append(item)
        shown.append({"name": name, "label": label, "values": values})
    return shown


def _pager(search: SearchRequest, results) -> dict:
    if not results:
        return {}
    return {
        "previous": search.querystring(page=search.page - 1) if search.page > 1 else None,
        "next": search.querystring(page=search.page + 1) if results.has_next else None,
    }


# Reindexing rebuilds the whole index (PostgreSQL's indexes are not per organisation): a job for whoever
# runs the platform, its superusers, not for an organisation's admins (who are staff for Django's admin).
operator_required = user_passes_test(lambda user: user.is_active and user.is_superuser)


def _reindex_context() -> dict:
    state = cache.get(REINDEX_PROGRESS_KEY) or {}
    unfinished = state.get("queued") or state.get("done", 0) < state.get("total", 0)
    running = bool(unfinished) and not state.get("error")
    return {"state": state, "running": running, "backend": type(get_backend()).__name__}


@operator_required
def reindex(request):
    """The search index's maintenance page: start a rebuild, and watch its progress."""
    return render(request, "search/reindex.html", {"section": "search", **_reindex_context()})


@operator_required
def reindex_progress(request):
    """The progress bar alone, polled by the page while a rebuild runs."""
    return render(request, "search/reindex.html#progress", _reindex_context())


@operator_required
@require_POST
def reindex_start(request):
    if not _reindex_context()["running"]:
        # Shown at once, before a worker takes the task: 0 of an unknown number of steps.
        cache.set(REINDEX_PROGRESS_KEY, {"done": 0, "total": 0, "queued": True}, 24 * 3600)
        reindex_task.delay()
    if request.htmx:
        return render(request, "search/reindex.html#progress", _reindex_context())
    return redirect("search:reindex")
