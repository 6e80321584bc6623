"""The Elasticsearch backend. The request bodies are pure functions, tested here without a server; the
tests marked `elasticsearch` talk to the real cluster at ELASTICSEARCH_URL and are skipped without one."""

import os
import uuid

import pytest

from apps.accounts.models import Role
from apps.listening.query import parse
from apps.search.backends import COUNT_CAP, SearchFilters
from apps.search.backends.elasticsearch import (
    LANGUAGE_FIELDS,
    ElasticsearchBackend,
    alias_name,
    index_body,
    message_document,
    search_body,
)
from tests.factories import membership_create

from .conftest import message_on


def _clauses(body, kind):
    """Every clause of this kind anywhere in a body."""
    if isinstance(body, dict):
        found = [body[kind]] if kind in body else []
        return found + [c for value in body.values() for c in _clauses(value, kind)]
    if isinstance(body, list):
        return [c for item in body for c in _clauses(item, kind)]
    return []


def test_the_mapping_has_an_analyser_per_language_and_keyword_fields():
    properties = index_body()["mappings"]["properties"]
    assert properties["text_en"]["analyzer"] == "english"
    assert properties["text_ar"]["analyzer"] == "arabic"
    assert properties["text_id"]["analyzer"] == "indonesian"
    assert properties["text_zh"]["analyzer"] == properties["text_ja"]["analyzer"] == "cjk"
    assert properties["text"]["analyzer"] == "folded"
    for name in ("organization", "brand", "channel", "channel_kind", "language", "sentiment", "intent"):
        assert properties[name]["type"] == "keyword"
    assert properties["sent_at"]["type"] == "date"
    folded = index_body()["settings"]["analysis"]["analyzer"]["folded"]
    assert folded["filter"] == ["lowercase", "asciifolding"]


class _Membership:
    def __init__(self, organization_id, brand_ids=()):
        self.organization_id = organization_id
        self.brand_ids = list(brand_ids)
        self.limited_to_brands = bool(brand_ids)


def test_the_query_is_always_scoped_to_the_tenant_and_its_brands():
    body = search_body(_Membership(7, [3, 4]), parse("refund"), SearchFilters(sentiment="negative"), 2)
    scope = body["query"]["function_score"]["query"]["bool"]["filter"]
    assert {"term": {"organization": "7"}} in scope
    assert {"terms": {"brand": ["3", "4"]}} in scope
    assert {"term": {"sentiment": "negative"}} in scope
    assert body["from"] == 20 and body["size"] == 20
    assert set(body["aggs"]) == {"channel", "language", "sentiment", "intent"}
    assert body["highlight"]["encoder"] == "html"


def test_listening_syntax_becomes_phrases_in_every_language_field_and_exact_tags():
    body = search_body(
        _Membership(1), parse('"battery life" OR #nimbus OR @nimbusmobile -refund'), SearchFilters(), 1
    )
    phrases = _clauses(body, "match_phrase")
    assert {"text_en": "battery life"} in phrases and {"text_zh": "battery life"} in phrases
    assert {"text": "refund"} in phrases
    terms = _clauses(body, "term")
    assert {"hashtags": "nimbus"} in terms and {"mentions": "nimbusmobile"} in terms
    assert _clauses(body, "must_not")


def test_a_message_document_carries_its_language_field_tags_and_scope(world):
    message = message_on(world["x"], "¡Me encanta el #Nimbus! gracias @NimbusMobile", language="es-MX")
    document = message_document(message)
    assert document["text_es"] == message.text and "text_en" not in document
    assert document["hashtags"] == ["nimbus"] and document["mentions"] == ["nimbusmobile"]
    assert document["organization"] == str(world["org"].pk)
    assert document["brand"] == str(world["second_brand"].pk)
    assert document["channel_kind"] == "x"
    assert set(LANGUAGE_FIELDS) >= {"en", "es", "ar", "id", "ru", "zh", "fr", "de", "pt"}


requires_elasticsearch = pytest.mark.skipif(
    not os.environ.get("ELASTICSEARCH_URL"), reason="ELASTICSEARCH_URL is not set"
)


def test_the_shapes_postgresql_finds_slowest_at_scale_are_one_request_each():
    # Prefixes, hashtags and mentions, channel and language filters, brand-limited agents: PostgreSQL reads
    # a word index's lists and the rows behind them; Elasticsearch answers each in one request whose
    # count stops one past the cap (so it can say "1,000+").
    query = parse("(sto* OR #nimbus OR @nimbusmobile) channel:email lang:es")
    body = search_body(_Membership(1, [5]), query, SearchFilters(), 1)
    assert _clauses(body, "wildcard") == [{"text": {"value": "sto*", "case_insensitive": True}}]
    assert {"channel_kind": ["email"]} in _clauses(body, "terms")
    assert {"terms": {"brand": ["5"]}} in body["query"]["function_score"]["query"]["bool"]["filter"]
    assert body["track_total_hits"] == COUNT_CAP + 1


@pytest.fixture
def es_backend(settings):
    settings.ELASTICSEARCH_URL = os.environ["ELASTICSEARCH_URL"]
    settings.ELASTICSEARCH_INDEX_PREFIX = f"cxm-test-{uuid.uuid4().hex[:8]}"
    backend = ElasticsearchBackend()
    yield backend
    for name in backend.client.indices.get(index=f"{alias_name()}-*"):  # by name: wildcards are refused
        backend.client.indices.delete(index=name)


SAMPLES = {
    "en": ("I want a refund for my broken charger", "refunds"),
    "es": ("La batería de mi teléfono no carga", "bateria"),
    "ar": ("أريد استرداد المبلغ من فضلكم", "استرداد"),
    "id": ("Pengiriman pesanan saya terlambat", "pengiriman"),
    "ru": ("Мой телефон не заряжается", "телефон"),
    "zh": ("我很喜欢Nimbus手机的拍照功能", "手机"),
    "fr": ("Le café était très bon", "cafe"),
    "de": ("Die Lieferung ist nicht angekommen", "lieferung"),
    "pt": ("Não recebi minha encomenda", "encomenda"),
}


@pytest.mark.elasticsearch
@requires_elasticsearch
@pytest.mark.django_db
def test_elasticsearch_indexes_searches_every_language_and_aggregates(world, es_backend):
    messages = {
        language: message_on(world["email"], text, language=language, sentiment="neutral")
        for language, (text, _) in SAMPLES.items()
    }
    theirs = message_on(world["other_org_channel"], "I want a refund too")
    assert es_backend.index([m.pk for m in [*messages.values(), theirs]], refresh=True) == len(SAMPLES) + 1
    for language, (_, query) in SAMPLES.items():
        results = es_backend.search(membership=world["agent"], query=parse(query), filters=SearchFilters())
        assert messages[language].pk in {hit.message_id for hit in results.hits}, language
    results = es_backend.search(membership=world["agent"], query=parse("refund"), filters=SearchFilters())
    assert [hit.message_id for hit in results.hits] == [messages["en"].pk]  # not organisation B's
    assert "<mark>" in results.hits[0].snippet
    assert dict(results.facets["sentiment"]) == {"neutral": 1}
    limited = membership_create(world["org"], Role.COMMUNITY_MANAGER, brands=[world["second_brand"]])
    assert es_backend.search(membership=limited, query=parse("refund"), filters=SearchFilters()).total == 0


@pytest.mark.elasticsearch
@requires_elasticsearch
@pytest.mark.django_db
def test_elasticsearch_reindex_swaps_in_a_fresh_index_with_progress(world, es_backend):
    for n in range(7):
        message_on(world["email"], f"message {n} about shipping")
    steps = []
    assert es_backend.reindex(progress=lambda done, total: steps.append((done, total))) >= 7
    assert steps[-1][0] == steps[-1][1]
    results = es_backend.search(membership=world["agent"], query=parse("shipping"), filters=SearchFilters())
    assert results.total == 7
    es_backend.delete([results.hits[0].message_id])
    es_backend.client.indices.refresh(index=alias_name())
    assert (
        es_backend.search(membership=world["agent"], query=parse("shipping"), filters=SearchFilters()).total
        == 6
    )


@pytest.mark.elasticsearch
@requires_elasticsearch
@pytest.mark.django_db
def test_elasticsearch_says_when_its_count_is_capped(world, es_backend):
    from .test_postgres_search import _many_on

    messages = _many_on(world["email"], "refund please", COUNT_CAP + 5)
    es_backend.index([m.pk for m in messages], refresh=True)
    results = es_backend.search(membership=world["agent"], query=parse("refund"), filters=SearchFilters())
    assert results.total == COUNT_CAP and results.total_capped and results.has_next
