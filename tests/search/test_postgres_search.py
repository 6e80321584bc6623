"""The PostgreSQL backend (the built-in one): languages, accents, stems, CJK, typos, the listening
syntax, tenant scoping and safe snippets. These run on the real PostgreSQL of the test stack."""

import random
import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.conversations.models import Message
from apps.demo import phrases
from apps.demo.generate import LANGUAGE_WEIGHTS
from apps.search.backends import COUNT_CAP, SearchFilters
from apps.search.backends.postgres import (
    RANK_WINDOW,
    RECENT_HOURS,
    ROW_CHECK_COST,
    PostgresBackend,
    _big_channel,
    compile_query,
    filtered_messages,
)
from apps.search.selectors import message_search, search_query_parse
from apps.search.services import messages_index
from tests.factories import ConversationFactory

from .conftest import message_on

pytestmark = pytest.mark.django_db


def found(membership, query: str, **filters) -> set[int]:
    results = message_search(membership=membership, query=query, filters=SearchFilters(**filters))
    return {hit.message_id for hit in results.hits}


def _a_word_of(text: str, language: str) -> str:
    """A searchable word of a demo message: a CJK bigram, or its longest word."""
    if language == "zh":
        run = max(re.findall(r"[\u4e00-\u9fff]{2,}", text), key=len)
        return run[:2]
    return max(re.findall(r"[^\W\d_]{5,}", text), key=len)


@pytest.mark.parametrize("language", sorted(LANGUAGE_WEIGHTS))
def test_search_finds_messages_in_every_demo_language(world, language):
    # Given demo messages in this language, among messages in the other demo languages
    rng = random.Random(language)
    mine = [
        message_on(world["email"], phrases.compose(rng, language, intent), language=language)
        for intent in ("complaint", "question", "praise")
    ]
    for other in LANGUAGE_WEIGHTS:
        if other != language:
            message_on(world["email"], phrases.compose(rng, other, "question"), language=other)
    # When the agent searches a word of each, then that message is found
    for message in mine:
        word = _a_word_of(message.text, language)
        assert message.pk in found(world["agent"], word), (language, word, message.text)


def test_accents_and_case_are_ignored(world):
    cafe = message_on(world["email"], "Un CAFÉ très bon à la boutique", language="fr")
    nao = message_on(world["email"], "Não recebi minha encomenda", language="pt")
    assert cafe.pk in found(world["agent"], "cafe")
    assert cafe.pk in found(world["agent"], "café")
    assert nao.pk in found(world["agent"], "nao")


def test_words_match_whatever_their_ending(world):
    refund = message_on(world["email"], "I asked for a refund yesterday")
    charging = message_on(world["email"], "The phone stopped charging", language="en")
    spanish = message_on(world["email"], "Mis pedidos llegaron tarde", language="es")
    assert refund.pk in found(world["agent"], "refunds")
    assert charging.pk in found(world["agent"], "charge")
    assert spanish.pk in found(world["agent"], "pedido")


def test_chinese_japanese_korean_words_match_inside_text(world):
    chinese = message_on(world["email"], "我很喜欢Nimbus手机的拍照功能", language="zh")
    japanese = message_on(world["email"], "注文した商品が届きません", language="ja")
    korean = message_on(world["email"], "삼성이 배송이 너무 늦어요", language="ko")
    message_on(world["email"], "我的电脑坏了", language="zh")
    assert found(world["agent"], "手机") == {chinese.pk}
    assert found(world["agent"], "拍照功能") == {chinese.pk}
    assert found(world["agent"], "nimbus") == {chinese.pk}
    assert found(world["agent"], "商品") == {japanese.pk}
    assert found(world["agent"], "배송") == {korean.pk}
    assert found(world["agent"], "功能拍照") == set()  # the characters, not in that order


def test_a_typo_finds_close_spellings_and_says_so(world):
    refund = message_on(world["email"], "Please process my refund today")
    battery = message_on(world["email"], "The battery died after a week")
    messages_index(message_ids=[refund.pk, battery.pk])  # what the worker does after ingestion
    results = message_search(membership=world["agent"], query="refnd", filters=SearchFilters())
    assert [hit.message_id for hit in results.hits] == [refund.pk] and results.approximate
    assert battery.pk in found(world["agent"], "baterry")
    exact = message_search(membership=world["agent"], query="refund", filters=SearchFilters())
    assert not exact.approximate


def test_a_word_in_the_users_messages_is_no_typo_when_the_filters_leave_nothing(world):
    # Given a word on one channel, and a close spelling of it (a typo in a message) on another
    on_x = message_on(world["x"], "Got my refund today")
    misspelt = message_on(world["email"], "Where is my refunt please")
    theirs = message_on(world["other_org_channel"], "a parcel tracking number")
    messages_index(message_ids=[on_x.pk, misspelt.pk, theirs.pk])
    # When the agent searches the word on the channel that does not hold it
    email_only = SearchFilters(channel=world["email"].pk)
    results = message_search(membership=world["agent"], query="refund", filters=email_only)
    # Then nothing matches, and no close spelling stands in for a word spelled as her messages spell it
    assert results.total == 0 and not results.hits and not results.approximate
    # while a word none of her messages holds is still taken for a typo, on that channel too
    typo = message_search(membership=world["agent"], query="refnd", filters=email_only)
    assert [hit.message_id for hit in typo.hits] == [misspelt.pk] and typo.approximate
    # and another organisation's messages do not make a word hers ("parcel" is only theirs)
    parcels = message_on(world["email"], "Two parcels arrived")
    messages_index(message_ids=[parcels.pk])
    assert message_search(membership=world["agent"], query="parcl", filters=SearchFilters()).approximate


def test_the_listening_query_syntax(world):
    life = message_on(world["email"], "Battery life is great on this phone")
    reversed_ = message_on(world["email"], "Life is short, and the battery is bad")
    hashtag = message_on(world["x"], "Loving the new #Nimbus phone", language="en")
    plain = message_on(world["x"], "Loving the new nimbus phone", language="en")
    mention = message_on(world["x"], "Thanks @NimbusMobile for the help", language="en")
    email_address = message_on(world["email"], "Write to help@nimbusmobile.com", language="en")
    spanish = message_on(world["email"], "La batería del nimbus dura poco", language="es")
    agent = world["agent"]

    assert found(agent, '"battery life"') == {life.pk}
    assert found(agent, "battery life") == {life.pk, reversed_.pk}
    assert found(agent, "#nimbus") == {hashtag.pk}
    assert found(agent, "@nimbusmobile") == {mention.pk}
    assert email_address.pk not in found(agent, "@nimbusmobile")
    assert found(agent, "nimbus -#nimbus") == {plain.pk, spanish.pk}
    assert found(agent, "nimbus NOT loving") == {spanish.pk}
    assert found(agent, "nimbus lang:es") == {spanish.pk}
    assert found(agent, "nimbus channel:x") == {hashtag.pk, plain.pk}
    assert found(agent, '"battery life" OR @nimbusmobile') == {life.pk, mention.pk}
    # a wildcard matches words starting so, the mention's handle too (as in listening)
    assert found(agent, "nimb*") == {hashtag.pk, plain.pk, mention.pk, spanish.pk}


def test_filters_and_facets(world):
    message_on(world["email"], "refund please", sentiment="negative", intent="complaint")
    message_on(world["email"], "refund please, again", sentiment="negative")
    on_x = message_on(world["x"], "a refund would be nice", sentiment="neutral")
    results = message_search(membership=world["agent"], query="refund", filters=SearchFilters())
    assert results.total == 3 and not results.total_capped
    assert dict(results.facets["sentiment"]) == {"negative": 2, "neutral": 1}
    assert dict(results.facets["channel"]) == {str(world["email"].pk): 2, str(world["x"].pk): 1}
    assert found(world["agent"], "refund", channel=world["x"].pk) == {on_x.pk}
    assert found(world["agent"], "refund", brand=world["second_brand"].pk) == {on_x.pk}
    assert len(found(world["agent"], "refund", sentiment="negative")) == 2


def test_each_tenant_sees_only_its_own_messages(world):
    mine = message_on(world["email"], "secret launch plans")
    other_brand = message_on(world["x"], "secret launch plans on X")
    theirs = message_on(world["other_org_channel"], "secret launch plans elsewhere")
    assert found(world["agent"], "secret") == {mine.pk, other_brand.pk}
    assert found(world["limited"], "secret") == {other_brand.pk}
    assert found(world["other_org_agent"], "secret") == {theirs.pk}
    # and the facets count only what they may see
    limited = message_search(membership=world["limited"], query="secret", filters=SearchFilters())
    assert results_total(limited) == 1


def results_total(results) -> int:
    return results.total


def test_hostile_text_stays_inert_in_snippets(world):
    message_on(
        world["email"], '<script>alert("x")</script> refund <img src=x onerror=alert(1)> \ue000bold\ue001'
    )
    (hit,) = message_search(membership=world["agent"], query="refund", filters=SearchFilters()).hits
    # (ts_headline leaves well-formed tags out of snippets; whatever it keeps is escaped)
    assert "<script" not in hit.snippet and "<img" not in hit.snippet
    assert "&lt;img src=x onerror=alert(1)&gt;" in hit.snippet
    assert "<mark>refund</mark>" in hit.snippet
    assert hit.snippet.count("<mark>") == 1


def test_plain_word_searches_use_the_full_text_index(world):
    for n in range(30):
        message_on(world["email"], f"message number {n} about shipping")
    compiled = compile_query(search_query_parse("refund"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables: ask whether the index can serve
        cursor.execute(
            f"EXPLAIN SELECT id FROM conversations_message WHERE {compiled.where}", compiled.params
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "msg_search_vector" in plan, plan


def test_counting_through_the_word_index_leaves_the_callers_transaction_as_it_was(world):
    message_on(world["email"], "refund please")
    with transaction.atomic(), connection.cursor() as cursor:
        assert message_search(membership=world["agent"], query="refund", filters=SearchFilters()).total == 1
        cursor.execute("SELECT current_setting('enable_indexscan'), current_setting('enable_seqscan')")
        assert cursor.fetchone() == ("on", "on")


def test_reindex_on_postgresql_rebuilds_the_indexes(world):
    message_on(world["email"], "still found after a reindex")
    steps = []
    PostgresBackend().reindex(progress=lambda done, total: steps.append((done, total)))
    assert steps[-1] == (3, 3)
    assert len(found(world["agent"], "reindex")) == 1


def test_the_indexing_task_teaches_the_lexicon_the_new_words(world):
    from apps.search.tasks import index_messages_task

    message = message_on(world["email"], "The screen flickers constantly")
    assert found(world["agent"], "flikers") == set()  # a word the lexicon does not know yet
    index_messages_task.apply(args=[[message.pk]])  # what ingestion's after-commit hook enqueues
    assert found(world["agent"], "flikers") == {message.pk}


def test_the_reindex_command_says_what_it_does_on_postgresql(world):
    from io import StringIO

    from django.core.management import call_command

    message_on(world["email"], "still searchable")
    out = StringIO()
    call_command("reindex", stdout=out, stderr=StringIO())
    assert "PostgreSQL full-text search" in out.getvalue()
    assert "search index rebuilt (postgresql): 1 messages" in out.getvalue()


def _many_on(channel, text: str, count: int, *, start=None, step=None, **fields) -> list:
    """`count` messages with this text in one conversation of the channel, one `step` apart going back in
    time from `start` (the newest first), inserted at once."""
    start = start or timezone.now()
    step = step or timedelta(minutes=1)
    conversation = ConversationFactory(channel=channel)
    return Message.objects.bulk_create(
        (
            Message(
                organization_id=conversation.organization_id,
                conversation=conversation,
                channel=channel,
                direction=Message.Direction.INBOUND,
                text=text,
                language="en",
                sent_at=start - step * n,
                **fields,
            )
            for n in range(count)
        ),
        batch_size=2_000,
    )


@pytest.mark.parametrize(
    "layout",
    [
        # (how many matches, how far apart), newest first: where the backend finds the newest matches
        [(COUNT_CAP + 5, timedelta(minutes=1))],  # all in the last hours: one look at them
        [(250, timedelta(minutes=10)), (COUNT_CAP, timedelta(days=1))],  # the window in the last hours
        [(COUNT_CAP + 5, timedelta(hours=8))],  # a few a day: the newest of all time
        # most of the window in the last hours: the rest in the range that density predicts
        [(150, timedelta(minutes=10)), (COUNT_CAP, timedelta(hours=1))],
        # most of the window in the last hours, the rest long before: the newest of all time
        [(150, timedelta(minutes=10)), (COUNT_CAP, timedelta(days=2))],
    ],
    ids=["recent", "window-recent-count-older", "spread", "window-mostly-recent", "window-partly-recent"],
)
def test_a_count_past_the_cap_says_so_and_the_page_shows_the_newest(world, login, layout):
    # Given more messages holding a word than the count goes to, laid out in time so
    messages, start = [], timezone.now()
    for count, step in layout:
        messages += _many_on(world["email"], "refund please", count, start=start, step=step)
        start = messages[-1].sent_at - step
    # When the agent searches it
    results = message_search(membership=world["agent"], query="refund", filters=SearchFilters())
    # Then the count stops at the cap and says it is capped, and the facets count as many
    assert results.total == COUNT_CAP and results.total_capped
    assert sum(count for _, count in results.facets["sentiment"]) == COUNT_CAP
    # and the first page is the newest matches (same text, same rank: by recency), more pages follow
    assert [hit.message_id for hit in results.hits] == [m.pk for m in messages[:20]]
    assert results.has_next
    last = message_search(membership=world["agent"], query="refund", filters=SearchFilters(), page=10)
    assert [hit.message_id for hit in last.hits] == [m.pk for m in messages[180:200]]
    # and the page tells the user the count is capped
    page = login(world["agent"]).get("/search/", {"q": "refund"}).content.decode()
    assert f"{COUNT_CAP}+ messages" in page


def test_under_the_cap_the_window_is_the_newest_matches_of_all(world):
    # Given more matches than the ranked window, the newest ones a year back, others older still
    newest = _many_on(world["email"], "warranty claim", RANK_WINDOW + 30, step=timedelta(days=2))
    message_on(world["x"], "no match here")
    results = message_search(membership=world["agent"], query="warranty", filters=SearchFilters())
    assert results.total == RANK_WINDOW + 30 and not results.total_capped
    # Then the pages walk the newest RANK_WINDOW matches, newest first (equal rank)
    seen = []
    for page in range(1, 11):
        seen += [
            hit.message_id
            for hit in message_search(
                membership=world["agent"], query="warranty", filters=SearchFilters(), page=page
            ).hits
        ]
    assert seen == [m.pk for m in newest[:RANK_WINDOW]]


def test_a_channel_holding_most_messages_is_checked_row_by_row_and_finds_the_same(world):
    # Given a channel holding most messages, so many that a bitmap of them all costs more than checking
    # the word's matches one by one until the count has enough (ROW_CHECK_COST), and a small channel
    _many_on(world["x"], "hello there", ROW_CHECK_COST * (COUNT_CAP + 1) + 2_000, step=timedelta(seconds=1))
    refunds = _many_on(world["x"], "refund please", COUNT_CAP + 50, step=timedelta(minutes=7))
    on_email = [message_on(world["email"], "refund please") for _ in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_message")
    assert _big_channel(world["x"].pk) and not _big_channel(world["email"].pk)
    # When the agent searches a word on each channel
    on_x = message_search(
        membership=world["agent"], query="refund", filters=SearchFilters(channel=world["x"].pk)
    )
    small = message_search(
        membership=world["agent"], query="refund", filters=SearchFilters(channel=world["email"].pk)
    )
    # Then each finds its channel's matches: capped on the big one, newest first; all on the small one
    assert on_x.total == COUNT_CAP and on_x.total_capped
    assert [hit.message_id for hit in on_x.hits] == [m.pk for m in refunds[:20]]
    assert {hit.message_id for hit in small.hits} == {m.pk for m in on_email} and small.total == 3


def test_a_word_dense_in_the_last_hours_is_looked_at_in_fewer_of_them_with_the_same_page(world):
    # Given a word in thousands of messages of the last day, the planner's statistics up to date
    refunds = _many_on(world["email"], "refund please", 5 * (COUNT_CAP + 1), step=timedelta(seconds=15))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_message")
    # When the agent searches it, the backend looks at a range of hours shorter than RECENT_HOURS first
    matching = _refund_matches(world)
    first, *rest = PostgresBackend()._recent_hours(matching.order_by("-sent_at"), timezone.now())
    assert first < RECENT_HOURS[0] and rest == list(RECENT_HOURS)
    # Then the count, the facets and the pages are those of the newest matches, as with the longer range
    _assert_capped_refunds_show_the_newest(world, refunds)


def test_a_wrong_estimate_of_the_last_hours_costs_a_statement_not_the_results(world):
    # Given statistics taken while a word was rare, then a burst of it in the last hour
    message_on(world["email"], "refund please", sent_at=timezone.now() - timedelta(days=30))
    _many_on(world["x"], "hello there", 300)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_message")
    burst = _many_on(world["email"], "refund please", COUNT_CAP + 5, step=timedelta(seconds=3))
    # the planner expects few matches in the last hours, so the backend reads the count first
    matching = _refund_matches(world)
    assert PostgresBackend()._recent_hours(matching.order_by("-sent_at"), timezone.now()) == []
    # When the agent searches it
    # Then the count, the facets and the pages are those of the newest matches all the same
    _assert_capped_refunds_show_the_newest(world, burst)


def _refund_matches(world):
    """The messages the agent's search for "refund" matches, as the backend builds them."""
    scope = filtered_messages(world["agent"], SearchFilters())
    compiled = compile_query(search_query_parse("refund"))
    return scope.filter(RawSQL(compiled.where, compiled.params, output_field=BooleanField()))


def _assert_capped_refunds_show_the_newest(world, newest_first: list):
    results = message_search(membership=world["agent"], query="refund", filters=SearchFilters())
    assert results.total == COUNT_CAP and results.total_capped
    assert sum(count for _, count in results.facets["sentiment"]) == COUNT_CAP
    assert [hit.message_id for hit in results.hits] == [m.pk for m in newest_first[:20]]
    last = message_search(membership=world["agent"], query="refund", filters=SearchFilters(), page=10)
    assert [hit.message_id for hit in last.hits] == [m.pk for m in newest_first[180:200]]
