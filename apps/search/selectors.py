"""Reading: the search the page, the API and anything else run, through the configured backend."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.http import QueryDict

from apps.classification.models import Sentiment
from apps.connectors.kinds import ChannelKind
from apps.conversations.selectors import _ParamReader  # the inbox's querystring reader: same wording
from apps.listening.query import Node, parse

from .backends import MAX_PAGE, SearchFilters, SearchResults, get_backend


@dataclass(frozen=True)
class SearchRequest:
    """What the search page asks for, read from its querystring; `problems` lists what was left out."""

    text: str = ""
    filters: SearchFilters = SearchFilters()
    page: int = 1
    problems: tuple[str, ...] = ()

    @classmethod
    def parse(cls, params: QueryDict, *, intent_labels) -> SearchRequest:
        reader = _ParamReader(params)
        filters = SearchFilters(
            brand=reader.number("brand"),
            channel=reader.number("channel"),
            language=reader.language("language"),
            sentiment=reader.choice("sentiment", Sentiment.values),
            intent=reader.choice("intent", intent_labels),
            date_from=reader.day("from"),
            date_to=reader.day("to"),
        )
        if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
            reader.problems.append("to: the end date is before the start date")
            filters = replace(filters, date_to=None)
        page = reader.number("page") or 1
        if page > MAX_PAGE:
            reader.problems.append(f"page: results stop at page {MAX_PAGE}; narrow the search")
        return cls(
            text=(params.get("q") or "").strip(),
            filters=filters,
            page=min(max(page, 1), MAX_PAGE),
            problems=tuple(reader.problems),
        )

    def querystring(self, **changes) -> str:
        request = replace(self, **changes)
        given = request.filters
        pairs = [
            ("q", request.text),
            ("brand", given.brand),
            ("channel", given.channel),
            ("language", given.language),
            ("sentiment", given.sentiment),
            ("intent", given.intent),
            ("from", given.date_from),
            ("to", given.date_to),
            ("page", request.page if request.page > 1 else ""),
        ]
        return urlencode([(name, value) for name, value in pairs if value not in (None, "")])


def search_query_parse(text: str) -> Node:
    """A search box's text as a listening query; raises QuerySyntaxError (with position) when it is not."""
    return parse(text, channels=ChannelKind.values)


def message_search(*, membership, query: str | Node, filters: SearchFilters, page: int = 1) -> SearchResults:
    """Messages this membership may see that match `query` (listening query syntax) and the filters."""
    node = search_query_parse(query) if isinstance(query, str) else query
    return get_backend().search(membership=membership, query=node, filters=filters, page=page)
