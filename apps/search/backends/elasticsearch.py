"""Elasticsearch, used when ELASTICSEARCH_URL is set.

One index per deployment, reached through an alias (``<prefix>-messages``): ``reindex`` fills a fresh
index and swaps the alias in one step, so searches never see a half-built index. Each message is one
document: its text in ``text`` (standard tokenizer, lower-cased, accents folded) and again in the field
of its language (``text_en``, ``text_zh``...: the language's own analyser -- stemming, CJK bigrams); the
keyword fields filter, facet and scope; hashtags and mentions are keywords of their own.

The listening query language is translated by ``apps.listening.query.to_elasticsearch``; each phrase it
produces then looks in ``text`` and in every language field (``_expand``), hashtags and mentions become
exact keyword lookups. Every search is filtered by organisation (and brands, for a brand-limited
membership) before anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from apps.listening.query import Node, fold, to_elasticsearch

from ..languages import ELASTICSEARCH_ANALYZERS, base_language
from .base import COUNT_CAP, MAX_PAGE, PAGE_SIZE, Progress, SearchFilters, SearchHit, SearchResults

BULK_BATCH = 500
LANGUAGE_FIELDS = {code: f"text_{code}" for code in ELASTICSEARCH_ANALYZERS}
FACETS = {"channel": "channel", "language": "language", "sentiment": "sentiment", "intent": "intent"}
_HASHTAG = re.compile(r"(?<![\w#@&])#(\w+)")
_MENTION = re.compile(r"(?<![\w@])@(\w+(?:[.\-]\w+)*)")


def alias_name() -> str:
    return f"{settings.ELASTICSEARCH_INDEX_PREFIX}-messages"


def index_body() -> dict:
    """Settings and mappings of the messages index (pure: tested without a server)."""
    text_fields = {
        field: {"type": "text", "analyzer": ELASTICSEARCH_ANALYZERS[code]}
        for code, field in LANGUAGE_FIELDS.items()
    }
    return {
        "settings": {
            "analysis": {
                "analyzer": {
                    "folded": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["lowercase", "asciifolding"],
                    }
                }
            }
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "organization": {"type": "keyword"},
                "brand": {"type": "keyword"},
                "conversation": {"type": "keyword"},
                "channel": {"type": "keyword"},
                "channel_kind": {"type": "keyword"},
                "language": {"type": "keyword"},
                "sentiment": {"type": "keyword"},
                "intent": {"type": "keyword"},
                "direction": {"type": "keyword"},
                "sent_at": {"type": "date"},
                "hashtags": {"type": "keyword"},
                "mentions": {"type": "keyword"},
                "text": {"type": "text", "analyzer": "folded"},
                **text_fields,
            },
        },
    }


def message_document(message) -> dict:
    """The document of one message (needs conversation and channel loaded)."""
    text = message.searchable_text  # with the text read in its images
    folded = fold(text)
    document = {
        "organization": str(message.organization_id),
        "brand": str(message.conversation.brand_id),
        "conversation": str(message.conversation_id),
        "channel": str(message.channel_id),
        "channel_kind": message.channel.kind,
        "language": (message.language or "").lower(),
        "sentiment": message.sentiment,
        "intent": message.intent,
        "direction": message.direction,
        "sent_at": message.sent_at.isoformat(),
        "hashtags": sorted(set(_HASHTAG.findall(folded))),
        "mentions": sorted(set(_MENTION.findall(folded))),
        "text": text,
    }
    field = LANGUAGE_FIELDS.get(base_language(message.language))
    if field:
        document[field] = text
    return document


def _expand(clause):
    """to_elasticsearch's output with phrases looking in every text field, hashtags and mentions exact."""
    if isinstance(clause, list):
        return [_expand(item) for item in clause]
    if not isinstance(clause, dict):
        return clause
    if set(clause) == {"match_phrase"}:
        ((_, phrase),) = clause["match_phrase"].items()
        if phrase.startswith("#"):
            return {"term": {"hashtags": phrase[1:]}}
        if phrase.startswith("@"):
            return {"term": {"mentions": phrase[1:]}}
        fields = ["text", *LANGUAGE_FIELDS.values()]
        return {
            "bool": {
                "should": [{"match_phrase": {field: phrase}} for field in fields],
                "minimum_should_match": 1,
            }
        }
    return {key: _expand(value) for key, value in clause.items()}


def scope_filters(membership, filters: SearchFilters) -> list[dict]:
    """The tenant filter, always, then the user's filters."""
    scope = [{"term": {"organization": str(membership.organization_id)}}]
    if membership.limited_to_brands:
        scope.append({"terms": {"brand": [str(pk) for pk in membership.brand_ids]}})
    if filters.brand is not None:
        scope.append({"term": {"brand": str(filters.brand)}})
    if filters.channel is not None:
        scope.append({"term": {"channel": str(filters.channel)}})
    if filters.language:
        language = filters.language.lower()
        scope.append(
            {
                "bool": {
                    "should": [{"term": {"language": language}}, {"prefix": {"language": f"{language}-"}}],
                    "minimum_should_match": 1,
                }
            }
        )
    for name in ("sentiment", "intent"):
        if getattr(filters, name):
            scope.append({"term": {name: getattr(filters, name)}})
    dates = {}
    if filters.date_from:
        dates["gte"] = timezone.make_aware(datetime.combine(filters.date_from, time.min)).isoformat()
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min)
        dates["lt"] = timezone.make_aware(end).isoformat()
    if dates:
        scope.append({"range": {"sent_at": dates}})
    return scope


def search_body(membership, query: Node, filters: SearchFilters, page: int) -> dict:
    """The _search request body (pure: tested without a server)."""
    matched = _expand(to_elasticsearch(query))
    return {
        "query": {
            "function_score": {
                "query": {"bool": {"must": [matched], "filter": scope_filters(membership, filters)}},
                # Recent messages first among equally good matches: the score halves over 30 days.
                "functions": [{"gauss": {"sent_at": {"origin": "now", "scale": "30d", "decay": 0.5}}}],
                "boost_mode": "multiply",
            }
        },
        "from": (page - 1) * PAGE_SIZE,
        "size": PAGE_SIZE,
        "track_total_hits": COUNT_CAP + 1,
        "_source": ["conversation", "sent_at", "language", "channel", "sentiment", "intent", "direction"],
        "highlight": {
            "encoder": "html",
            "pre_tags": ["<mark>"],
            "post_tags": ["</mark>"],
            "number_of_fragments": 2,
            "fragment_size": 160,
            "no_match_size": 160,
            "fields": {"text": {}, "text_*": {}},
        },
        "aggs": {name: {"terms": {"field": field, "size": 20}} for name, field in FACETS.items()},
    }


class ElasticsearchBackend:
    name = "elasticsearch"
    needs_indexing = True
    copies_labels = True

    def __init__(self, url: str | None = None):
        from elasticsearch import Elasticsearch

        self.client = Elasticsearch(url or settings.ELASTICSEARCH_URL, request_timeout=30)

    # ------------------------------------------------------------------ search

    def search(self, *, membership, query: Node, filters: SearchFilters, page: int = 1) -> SearchResults:
        page = min(max(page, 1), MAX_PAGE)
        self.ensure_index()
        response = self.client.search(index=alias_name(), body=search_body(membership, query, filters, page))
        total = response["hits"]["total"]["value"]
        hits = []
        for hit in response["hits"]["hits"]:
            source = hit["_source"]
            fragments = [f for field in hit.get("highlight", {}).values() for f in field]
            hits.append(
                SearchHit(
                    message_id=int(hit["_id"]),
                    conversation_id=int(source["conversation"]),
                    sent_at=datetime.fromisoformat(source["sent_at"]),
                    language=source["language"],
                    channel_id=int(source["channel"]),
                    sentiment=source["sentiment"],
                    intent=source["intent"],
                    direction=source["direction"],
                    # The html encoder escaped the text; only <mark> is ours.
                    snippet=" … ".join(dict.fromkeys(fragments)),
                    score=hit["_score"] or 0.0,
                )
            )
        facets = {
            name: [
                (bucket["key"], bucket["doc_count"]) for bucket in response["aggregations"][name]["buckets"]
            ]
            for name in FACETS
        }
        return SearchResults(
            total=min(total, COUNT_CAP),
            total_capped=total > COUNT_CAP,
            hits=hits,
            facets=facets,
            page=page,
            has_next=page < MAX_PAGE and page * PAGE_SIZE < min(total, COUNT_CAP),
            backend=self.name,
        )

    # ------------------------------------------------------------------ indexing

    def ensure_index(self) -> None:
        """Create the first index and its alias if there is none yet."""
        if not self.client.indices.exists_alias(name=alias_name()):
            name = f"{alias_name()}-{timezone.now():%Y%m%d%H%M%S%f}"
            self.client.indices.create(index=name, **index_body())
            self.client.indices.put_alias(index=name, name=alias_name())

    def _actions(self, messages: Iterable, index: str) -> Iterator[dict]:
        for message in messages:
            yield {"_op_type": "index", "_index": index, "_id": str(message.pk), **message_document(message)}

    def _messages(self, queryset):
        return queryset.select_related("conversation", "channel").order_by("pk")

    def index(self, message_ids: Iterable[int], *, refresh: bool = False) -> int:
        from elasticsearch import helpers

        from apps.conversations.models import Message

        ids = list(message_ids)
        if not ids:
            return 0
        self.ensure_index()
        found = self._messages(Message.objects.filter(pk__in=ids))
        indexed, _ = helpers.bulk(
            self.client,
            self._actions(found.iterator(chunk_size=BULK_BATCH), alias_name()),
            chunk_size=BULK_BATCH,
            refresh=refresh,
        )
        gone = set(ids) - set(found.values_list("pk", flat=True))
        if gone:
            self.delete(gone)
        return indexed

    def delete(self, message_ids: Iterable[int]) -> None:
        from elasticsearch import helpers

        actions = ({"_op_type": "delete", "_index": alias_name(), "_id": str(pk)} for pk in message_ids)
        helpers.bulk(self.client, actions, raise_on_error=False, chunk_size=BULK_BATCH)

    def reindex(self, *, organization_id: int | None = None, progress: Progress | None = None) -> int:
        """Every message (or one organisation's) into a fresh index, then the alias moves to it. For one
        organisation, its documents are rewritten in place instead (the others stay as they are)."""
        from elasticsearch import helpers

        from apps.conversations.models import Message

        messages = Message.objects.all()
        if organization_id is not None:
            messages = messages.filter(organization_id=organization_id)
        total = messages.count()
        if organization_id is None:
            target = f"{alias_name()}-{timezone.now():%Y%m%d%H%M%S%f}"
            self.client.indices.create(index=target, **index_body())
        else:
            self.ensure_index()
            target = alias_name()
        done = 0
        for ok, _ in helpers.streaming_bulk(
            self.client,
            self._actions(self._messages(messages).iterator(chunk_size=BULK_BATCH), target),
            chunk_size=BULK_BATCH,
        ):
            done += ok
            if progress and (done % BULK_BATCH == 0 or done == total):
                progress(done, total)
        self.client.indices.refresh(index=target)
        if organization_id is None:
            old = []
            if self.client.indices.exists_alias(name=alias_name()):
                old = list(self.client.indices.get_alias(name=alias_name()))
            actions = [{"remove": {"index": name, "alias": alias_name()}} for name in old]
            self.client.indices.update_aliases(
                actions=[*actions, {"add": {"index": target, "alias": alias_name()}}]
            )
            for name in old:
                self.client.indices.delete(index=name, ignore_unavailable=True)
        if progress:
            progress(done, total)
        return done
