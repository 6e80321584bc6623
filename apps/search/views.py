from django.shortcuts import render
from django.urls import reverse

from apps.accounts.models import Brand
from apps.accounts.permissions import current_membership, inbox_required
from apps.accounts.tenancy import scoped
from apps.classification.language import DEFAULT_LANGUAGES
from apps.classification.models import Sentiment, Task
from apps.classification.selectors import label_choices
from apps.connectors.models import Channel
from apps.listening.query import QuerySyntaxError

from .selectors import SearchRequest, message_search

# The id of the results' container, swapped by the form and the pager (htmx).
RESULTS_ID = "search-results"


@inbox_required
def index(request):
    """Search messages with the listening query syntax. htmx requests get only the results."""
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
    channels = {c.pk: c for c in scoped(Channel, membership).only("name", "kind")}
    context = {
        "section": "search",
        "search": search,
        "results": results,
        "error": error,
        "channels": channels,
        "facets": _facets(results, channels),
        "pager": _pager(search, results),
        "conversation_path": reverse("inbox:conversation", args=[0]).removesuffix("0/"),
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


def _facets(results, channels) -> list[dict]:
    """Facet counts as links that add the value to the filters."""
    if not results:
        return []
    shown = []
    for name, label in (("channel", "Channel"), ("language", "Language"), ("sentiment", "Sentiment")):
        values = []
        for value, count in results.facets.get(name, []):
            if name == "channel":
                channel = channels.get(int(value)) if str(value).isdigit() else None
                values.append({"value": value, "label": channel.name if channel else value, "count": count})
            else:
                values.append({"value": value, "label": value or "unknown", "count": count})
        shown.append({"name": name, "label": label, "values": values})
    return shown


def _pager(search: SearchRequest, results) -> dict:
    if not results:
        return {}
    return {
        "previous": search.querystring(page=search.page - 1) if search.page > 1 else None,
        "next": search.querystring(page=search.page + 1) if results.has_next else None,
    }
