"""PostgreSQL full-text search, built in: the stored tsvector of each message and its GIN index (migrations
0001-0004) do the finding.

A listening query is compiled leaf by leaf (``compile_query``):

- words and phrases: the message's tsvector (stemmed in its own language, accents ignored) against the
  words normalised by every language's configuration -- "refunds" finds "refund", "cafe" finds "Café";
- Chinese/Japanese/Korean words: the bigrams of the tsvector narrow the candidates, then the listening
  query's exact substring check (``to_postgres``) decides;
- hashtags, mentions, wildcards: the tsvector narrows, the exact check decides;
- ``lang:`` and ``channel:`` filters: plain column conditions.

When nothing matches and a word is in none of the messages the user may see (a typo, not filters that
left nothing), plain words are tried again with the close spellings found in the lexicon of the
messages' words (search_lexicon, pg_trgm similarity), and the results say they are approximate. The
lexicon grows as messages are indexed (``index``) and is rebuilt by ``reindex``.

Ranking looks at the newest RANK_WINDOW matches and orders them by ts_rank weighted by recency: ranking
every match of a common word would cost more than the whole page may take.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.html import escape

from apps.accounts.tenancy import scoped
from apps.conversations.models import Message
from apps.core.db import local_settings
from apps.listening.query import (
    And,
    Filter,
    Hashtag,
    Mention,
    Node,
    Not,
    Or,
    Phrase,
    Term,
    Wildcard,
    to_postgres,
)

from .base import COUNT_CAP, MAX_PAGE, PAGE_SIZE, Progress, SearchFilters, SearchHit, SearchResults

TABLE = Message._meta.db_table
# The message's tsvector: a stored generated column (migration 0004), GIN-indexed.
VECTOR = f"{TABLE}.search_vector"
RANK_WINDOW = MAX_PAGE * PAGE_SIZE
# A search looks at the matches of the last hours first (see _matches): the time index's range
# for them costs less than a common word's list in the word index, and spares a second read of that list.
RECENT_HOURS = (48,)
# Bitmaps of the word index and the time index stay exact (not lossy: whole pages rechecked) in this much.
SEARCH_WORK_MEM = "32MB"
FUZZY_MIN_LENGTH = 4
# Words kept in the lexicon: long enough to have typos, short enough to be words, without digits.
LEXICON_WORDS = "char_length(word) BETWEEN 3 AND 40 AND word !~ '[0-9]'"
# Scripts written without spaces (the same ranges as the bigrams of the migration).
_CJK_RUN = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff]+")
# ts_headline marks matches with these; they are removed from the text first, so text cannot fake them.
# (Private-use characters: ts_headline's option parser refuses control characters.)
_START, _STOP = "\ue000", "\ue001"
# A search for a word in one channel: PostgreSQL ANDs the word index's bitmap with one of every message of
# the channel (it picks bitmap ANDs by their cost for all matches, before the LIMIT of the count), but the
# count needs only COUNT_CAP + 1 matches. Measured at 10M messages: marking a message in a bitmap costs
# ~0.17 µs, checking a candidate row of the word index ~7 µs (its heap page): about this many times more.
ROW_CHECK_COST = 40
# What the count, the facets and the window read of each match.
MATCH_COLUMNS = ("id", "sent_at", "channel_id", "language", "sentiment", "intent")
HEADLINE_OPTIONS = (
    f'StartSel={_START}, StopSel={_STOP}, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "'
)


@dataclass
class CompiledQuery:
    """A WHERE fragment with its parameters, and the tsquery of its positive words (for rank, headline)."""

    where: str
    params: list
    rank_query: str = ""
    rank_params: list = field(default_factory=list)
    # Chinese/Japanese/Korean words to mark in snippets (ts_headline does not see inside those runs).
    cjk_words: list[str] = field(default_factory=list)
    # The words that the typo pass widens with their close spellings.
    fuzzy_words: list[str] = field(default_factory=list)
    # Whether the planner estimates the matches from statistics (of the words, of `lang:`'s column) rather
    # than guesses them (an exact check of the text: CJK, wildcards, tags; `channel:`'s computed array).
    estimated: bool = True


def _bigrams(run: str) -> str:
    """A CJK run as a tsquery of its bigrams (AND), quoted for tsquery input."""
    grams = dict.fromkeys(run[i : i + 2] for i in range(len(run) - 1))
    return " & ".join(f"'{gram}'" for gram in grams)


TSQ, SQL = "tsquery", "sql"


def compile_query(node: Node, *, fuzzy: bool = False) -> CompiledQuery:
    """The SQL of a parsed listening query over conversations_message (pure: no database access)."""
    out = CompiledQuery(where="", params=[])
    rank_parts: list[tuple[str, list]] = []

    def exact(leaf: Node) -> tuple[str, list]:
        sql, params = to_postgres(
            leaf,
            text_column=f"{TABLE}.text",
            extra_text_column=f"{TABLE}.image_text",
            language_column=f"{TABLE}.language",
        )
        return sql, params

    # Each node compiles to a tsquery expression (TSQ: answered by the GIN index alone) or a boolean SQL
    # condition (SQL). Boolean operators between tsquery expressions stay inside one tsquery, so the
    # message's tsvector is matched once, in one index scan, whatever the number of words.
    def words(words: tuple[str, ...], leaf: Node, positive: bool) -> tuple[str, str, list]:
        text = " ".join(words)
        if not _CJK_RUN.search(text):
            if positive:
                rank_parts.append(("cxm_search_query(%s)", [text]))
            if fuzzy and isinstance(leaf, Term) and len(leaf.text) >= FUZZY_MIN_LENGTH:
                out.fuzzy_words.append(text)
                if positive:
                    rank_parts.append(("cxm_search_similar(%s)", [text]))
                return TSQ, "(cxm_search_query(%s) || cxm_search_similar(%s))", [text, text]
            return TSQ, "cxm_search_query(%s)", [text]
        # CJK: narrow with what the index has (bigrams, other words), then the exact listening check.
        candidates, params = [], []
        for run in _CJK_RUN.findall(text):
            if len(run) >= 2:
                candidates.append("%s::tsquery")
                params.append(_bigrams(run))
                if positive:
                    rank_parts.append(("%s::tsquery", [_bigrams(run)]))
            if positive:
                out.cjk_words.append(run)
        rest = _CJK_RUN.sub(" ", text).split()
        if rest:
            candidates.append("cxm_search_query(%s)")
            params.append(" ".join(rest))
        sql, exact_params = exact(leaf)
        out.estimated = False
        if candidates:
            sql = f"({VECTOR} @@ ({' && '.join(candidates)}) AND {sql})"
        return SQL, sql, params + exact_params

    def as_condition(kind: str, sql: str) -> str:
        return f"{VECTOR} @@ {sql}" if kind == TSQ else sql

    def build(n: Node, positive: bool) -> tuple[str, str, list]:
        if isinstance(n, Term):
            return words((n.text,), n, positive)
        if isinstance(n, Phrase):
            return words(n.words, n, positive)
        if isinstance(n, Wildcard | Hashtag | Mention):
            if isinstance(n, Wildcard):
                prefix = n.pattern.split("*", 1)[0]
                narrow = "cxm_search_prefix(%s)"
            else:
                prefix = n.tag if isinstance(n, Hashtag) else n.handle
                narrow = "cxm_search_query(%s)"
            if positive:
                rank_parts.append((narrow, [prefix]))
            out.estimated = False
            sql, params = exact(n)
            return SQL, f"({VECTOR} @@ {narrow} AND {sql})", [prefix, *params]
        if isinstance(n, Filter):
            if n.name == "channel":
                marks = ", ".join(["%s"] * len(n.values))
                # An array computed once (an InitPlan): as a join, the word index was read once per channel.
                kinds = f"SELECT id FROM connectors_channel WHERE kind IN ({marks})"
                channel_sql = f"{TABLE}.channel_id = ANY(ARRAY({kinds}))"
                out.estimated = False
                return SQL, channel_sql, list(n.values)
            return SQL, *exact(n)
        if isinstance(n, Not):
            kind, sql, params = build(n.child, not positive)
            return kind, (f"(!! {sql})" if kind == TSQ else f"NOT ({sql})"), params
        if isinstance(n, And | Or):
            parts = [build(child, positive) for child in n.children]
            joiner = " && " if isinstance(n, And) else " || "
            pure = [(sql, params) for kind, sql, params in parts if kind == TSQ]
            pure_sql = "(" + joiner.join(sql for sql, _ in pure) + ")"
            pure_params = [p for _, params in pure for p in params]
            if len(pure) == len(parts):
                return TSQ, pure_sql, pure_params
            conditions = [(sql, params) for kind, sql, params in parts if kind == SQL]
            if pure:
                conditions.insert(0, (as_condition(TSQ, pure_sql), pure_params))
            joiner = " AND " if isinstance(n, And) else " OR "
            return (
                SQL,
                "(" + joiner.join(sql for sql, _ in conditions) + ")",
                [p for _, params in conditions for p in params],
            )
        raise TypeError(f"not a query node: {n!r}")

    kind, where, params = build(node, True)
    out.where, out.params = as_condition(kind, where), params
    if rank_parts:
        out.rank_query = "(" + " || ".join(sql for sql, _ in rank_parts) + ")"
        out.rank_params = [p for _, params in rank_parts for p in params]
    return out


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered_messages(membership, filters: SearchFilters):
    """The messages this membership may see, narrowed by the filters (tenant scoping in one place)."""
    messages = scoped(Message, membership)
    if filters.brand is not None:
        messages = messages.filter(conversation__brand_id=filters.brand)
    if filters.channel is not None:
        if _big_channel(filters.channel):
            # IS TRUE: a check of the word index's candidates, not a bitmap of the channel's every message
            # (PostgreSQL estimates it as the plain condition, which the planning of ranges reads).
            channel_sql = f"({TABLE}.channel_id = %s) IS TRUE"
            messages = messages.filter(RawSQL(channel_sql, [filters.channel], output_field=BooleanField()))
        else:
            messages = messages.filter(channel_id=filters.channel)
    if filters.language:
        messages = messages.filter(
            Q(language__iexact=filters.language) | Q(language__istartswith=f"{filters.language}-")
        )
    for name in ("sentiment", "intent"):
        if getattr(filters, name):
            messages = messages.filter(**{name: getattr(filters, name)})
    if filters.date_from:
        messages = messages.filter(sent_at__gte=_start_of(filters.date_from))
    if filters.date_to:
        messages = messages.filter(sent_at__lt=_start_of(filters.date_to + timedelta(days=1)))
    return messages


def _big_channel(channel_id: int) -> bool:
    """Whether checking the rows of the word index costs less than a bitmap of the channel's messages.

    Checking rows until the count has COUNT_CAP + 1 in the channel reads about (COUNT_CAP + 1) / share of
    them (share: the channel's part of all messages); the bitmap marks share × all of them. From the
    planner's statistics (most common values; a channel not among them is small: the bitmap)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT greatest(c.reltuples, 0), coalesce((
                      SELECT m.share FROM unnest(s.most_common_vals::text::bigint[], s.most_common_freqs)
                                          AS m(channel_id, share)
                      WHERE m.channel_id = %s), 0)
               FROM pg_class c
               LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = c.relname
                                   AND s.attname = 'channel_id'
               WHERE c.oid = '{TABLE}'::regclass""",
            [channel_id],
        )
        messages, share = cursor.fetchone()
    return share * share * messages > ROW_CHECK_COST * (COUNT_CAP + 1)


def word_index_plans():
    """A block whose queries find matches through bitmap scans of the word index (GIN), ANDed with the
    time index's for the last hours: for the count, the facets and the window (see _matches).

    PostgreSQL estimates how many messages hold a word from samples; when it thinks a word common, it walks
    a btree (by organisation or by time) and tests each message until it has enough matches. Where the
    matches sit elsewhere in that order (a language's messages stored together, a word frequent only long
    ago), that walk reads most of the table: 250 ms for "pra" at a million messages. A bitmap scan of the
    word index costs what the word's posting list costs, whatever the order of the rows. With the default
    work_mem (4MB) a bitmap of a few hundred thousand rows turns lossy: whole pages, every row on them
    tested again (at 10M messages, a second and more for a common word)."""
    return local_settings(enable_indexscan="off", enable_seqscan="off", work_mem=SEARCH_WORK_MEM)


def snippet_html(headline: str, cjk_words: Iterable[str] = ()) -> str:
    """ts_headline's output (matches between the marker characters) as safe HTML with <mark>."""
    for word in cjk_words:
        headline = headline.replace(word, f"{_START}{word}{_STOP}")
    html = escape(headline)
    return html.replace(_START, "<mark>").replace(_STOP, "</mark>")


class PostgresBackend:
    name = "postgresql"
    needs_indexing = True  # only the lexicon of words: cheap, and it keeps typo matching up to date
    copies_labels = False

    def search(self, *, membership, query: Node, filters: SearchFilters, page: int = 1) -> SearchResults:
        page = min(max(page, 1), MAX_PAGE)
        results = self._search(membership, query, filters, page, fuzzy=False)
        if results.total == 0:
            typed = compile_query(query, fuzzy=True).fuzzy_words
            if typed and not self._all_in_messages(membership, typed):
                results = self._search(membership, query, filters, page, fuzzy=True)
                results.approximate = results.total > 0
        return results

    def _all_in_messages(self, membership, words: list[str]) -> bool:
        """Whether each word is in a message this membership may see: then none is a typo, and nothing
        matched because of the filters (`lang:es` for a word seen in Portuguese) or the words' combination.
        The typo pass would read the same messages again to find close spellings nobody misspelled."""
        messages = scoped(Message, membership)
        with word_index_plans():
            return all(
                messages.filter(
                    RawSQL(f"{VECTOR} @@ cxm_search_query(%s)", [word], output_field=BooleanField())
                ).exists()
                for word in words
            )

    def _search(self, membership, query: Node, filters: SearchFilters, page: int, fuzzy: bool):
        compiled = compile_query(query, fuzzy=fuzzy)
        scope = filtered_messages(membership, filters)
        total, capped, facets, window = self._matches(scope, compiled)
        hits = self._page(window, compiled, page) if window else []
        return SearchResults(
            total=total,
            total_capped=capped,
            hits=hits,
            facets=facets,
            page=page,
            has_next=page < MAX_PAGE and page * PAGE_SIZE < min(total, RANK_WINDOW),
            backend=self.name,
        )

    def _matches(self, scope, compiled: CompiledQuery) -> tuple[int, bool, dict, list[int]]:
        """The count (capped), the facets and the window of newest matches, each read once where it can.

        At millions of messages a search costs what it reads: the word index's list of every message that
        holds a word (millions of entries for a common one, read again by each query that needs it), and
        the rows behind it, fetched one by one. So:
        1. the newest COUNT_CAP + 1 matches of the last RECENT_HOURS (or fewer: _recent_hours), through the
           word index and the time index ANDed: a common word has them there -- the count is capped, the
           facets count those newest matches and the window is their head, all from one read of the
           word's list;
        2. else any COUNT_CAP + 1 matches, through the word index alone. Under the cap they are all the
           matches: the window is their newest. Over it (a rarer word), the window is the newest matches
           of step 1 when they fill it, else the newest of all (a few thousand matches: the word is rare
           in the last days).
        """
        matching = scope.filter(RawSQL(compiled.where, compiled.params, output_field=BooleanField()))
        newest = matching.order_by("-sent_at", "-id").values(*MATCH_COLUMNS)

        def recent_matches(hours: float):
            since = now - timedelta(hours=hours)
            return self._count_and_facets(
                *newest.filter(sent_at__gte=since)[: COUNT_CAP + 1].query.sql_with_params()
            )

        def any_matches():
            return self._count_and_facets(
                *matching.order_by().values(*MATCH_COLUMNS)[: COUNT_CAP + 1].query.sql_with_params()
            )

        recent: list[int] = []
        found = None
        with word_index_plans():
            now = timezone.now()
            ranges = self._recent_hours(newest, now) if compiled.estimated else list(RECENT_HOURS)
            if not ranges:
                # Few matches expected in the last hours (a rare word, filters): step 2 first; the last
                # hours only for a count past the cap (its facets and window are the newest matches).
                found = any_matches()
                if not found[1]:
                    return found
                ranges = list(RECENT_HOURS)
            for hours in ranges:
                total, capped, facets, window = recent_matches(hours)
                if capped:
                    return total, capped, facets, window
                recent = max(recent, window, key=len)
            total, capped, facets, window = found or any_matches()
            if not capped:
                return total, capped, facets, window
            if len(recent) < RANK_WINDOW:
                recent = self._newest(newest, now, found=len(recent))
        return total, capped, facets, recent

    def _newest(self, newest, now, found: int) -> list[int]:
        """The newest RANK_WINDOW matches of a search past the cap whose last RECENT_HOURS held only `found`
        of them: first in the range that density predicts to hold twice the window (the time index ANDed
        with the word's: a few hundred rows), then, if it is short, in all time (every match of the word
        fetched to sort them: 290 ms for "still" in a channel of 1.67M messages, where the last 48 hours held
        198 of the 200). A range reaching now holds the newest matches of all once it holds the window."""
        if found:
            hours = RECENT_HOURS[-1] * 2 * RANK_WINDOW / found
            in_range = newest.filter(sent_at__gte=now - timedelta(hours=hours))
            ids = list(in_range.values_list("id", flat=True)[:RANK_WINDOW])
            if len(ids) == RANK_WINDOW:
                return ids
        return list(newest.values_list("id", flat=True)[:RANK_WINDOW])

    def _recent_hours(self, newest, now) -> list[float]:
        """The ranges of the last hours to look at first, from the planner's estimate of the matches in
        RECENT_HOURS, where it estimates them from statistics (CompiledQuery.estimated; a planning, no
        read; a wrong estimate costs one more statement, never other results):
        - none where it expects fewer than half COUNT_CAP: they would not fill the count;
        - a shorter range, then RECENT_HOURS, where it expects more than twice COUNT_CAP (a dense word:
          "this order"): a range where it expects twice COUNT_CAP holds the newest COUNT_CAP + 1 unless
          the estimate is off by half, at a fraction of the heap rows and of the time index's bitmap;
        - else RECENT_HOURS."""
        hours = RECENT_HOURS[0]
        plan = newest.filter(sent_at__gte=now - timedelta(hours=hours)).explain(format="json")
        expected = json.loads(plan)[0]["Plan"]["Plan Rows"]
        if expected < (COUNT_CAP + 1) / 2:
            return []
        if expected <= 2 * (COUNT_CAP + 1):
            return list(RECENT_HOURS)
        return [hours * 2 * (COUNT_CAP + 1) / expected, *RECENT_HOURS]

    def _count_and_facets(self, sql: str, params: list) -> tuple[int, bool, dict, list[int]]:
        """The count and facets of up to COUNT_CAP + 1 matches (MATCH_COLUMNS, in `sql`), and the ids of
        the newest RANK_WINDOW of them (all the window there is when the count is not capped)."""
        with connection.cursor() as cursor:
            cursor.execute(
                # The facets count the COUNT_CAP matches the page says they count, not the one more
                # that tells the count is capped.
                f"""WITH matched AS MATERIALIZED ({sql})
                    SELECT GROUPING(channel_id, language, sentiment, intent), channel_id::text,
                           language, sentiment, intent, count(*), NULL::bigint[]
                    FROM (SELECT * FROM matched ORDER BY sent_at DESC, id DESC LIMIT %s) counted
                    GROUP BY GROUPING SETS ((channel_id), (language), (sentiment), (intent))
                    UNION ALL
                    SELECT -1, NULL, NULL, NULL, NULL, (SELECT count(*) FROM matched),
                           ARRAY(SELECT id FROM matched ORDER BY sent_at DESC, id DESC LIMIT %s)""",
                [*params, COUNT_CAP, RANK_WINDOW],
            )
            rows = cursor.fetchall()
        facets: dict[str, list[tuple[str, int]]] = {
            "channel": [],
            "language": [],
            "sentiment": [],
            "intent": [],
        }
        total = 0
        # GROUPING(...) is a bit mask of the columns left out, the first column being the highest bit.
        by_mask = {0b0111: ("channel", 1), 0b1011: ("language", 2), 0b1101: ("sentiment", 3)}
        by_mask[0b1110] = ("intent", 4)
        newest: list[int] = []
        for row in rows:
            if row[0] == -1:
                total, newest = row[5], row[6]
            elif row[0] in by_mask:
                name, column = by_mask[row[0]]
                facets[name].append((row[column] or "", row[5]))
        for values in facets.values():
            values.sort(key=lambda item: (-item[1], item[0]))
        capped = total > COUNT_CAP
        return min(total, COUNT_CAP), capped, facets, newest

    def _page(self, window: list[int], compiled: CompiledQuery, page: int) -> list[SearchHit]:
        rank_query = compiled.rank_query or "''::tsquery"
        sql = f"""
            WITH ranked AS (
                SELECT m.id, m.conversation_id, m.sent_at, m.language, m.channel_id, m.sentiment, m.intent,
                       m.direction, m.text || E'\\n' || m.image_text AS text,
                       ts_rank(m.search_vector, q.query)
                         / (1 + extract(epoch FROM now() - m.sent_at) / 86400 / 30) AS score
                FROM {TABLE} m, (SELECT {rank_query} AS query) q
                WHERE m.id = ANY(%s)
                ORDER BY score DESC, m.sent_at DESC, m.id DESC
                LIMIT %s OFFSET %s
            )
            SELECT r.id, r.conversation_id, r.sent_at, r.language, r.channel_id, r.sentiment, r.intent,
                   r.direction, r.score,
                   ts_headline(cxm_search_config(r.language), translate(r.text, %s, ''), q.query, %s)
            FROM ranked r, (SELECT {rank_query} AS query) q
            ORDER BY r.score DESC, r.sent_at DESC, r.id DESC"""
        params = [
            *compiled.rank_params,
            window,
            PAGE_SIZE,
            (page - 1) * PAGE_SIZE,
            _START + _STOP,
            HEADLINE_OPTIONS,
            *compiled.rank_params,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [
            SearchHit(
                message_id=row[0],
                conversation_id=row[1],
                sent_at=row[2],
                language=row[3],
                channel_id=row[4],
                sentiment=row[5],
                intent=row[6],
                direction=row[7],
                score=float(row[8] or 0),
                snippet=snippet_html(row[9] or "", compiled.cjk_words),
            )
            for row in rows
        ]

    def index(self, message_ids: Iterable[int]) -> int:
        """The tsvector index follows every INSERT and UPDATE by itself; the lexicon of words (for typos)
        learns the words of these messages."""
        ids = [int(pk) for pk in message_ids]
        if not ids:
            return 0
        listed = ", ".join(map(str, ids))  # integers: safe inside the query text ts_stat() takes
        vectors = f"SELECT search_vector FROM {TABLE} WHERE id IN ({listed})"
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO search_lexicon (word) SELECT word FROM ts_stat(%s) WHERE {LEXICON_WORDS} "
                "ON CONFLICT DO NOTHING",
                [vectors],
            )
        return len(ids)

    def lexicon_rebuild(self) -> int:
        """The lexicon from every message's words (a full pass over the messages)."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM search_lexicon")
            cursor.execute(
                f"INSERT INTO search_lexicon (word) SELECT word FROM ts_stat(%s) WHERE {LEXICON_WORDS}",
                [f"SELECT search_vector FROM {TABLE}"],
            )
            return cursor.rowcount

    def delete(self, message_ids: Iterable[int]) -> None:
        return None

    def reindex(self, *, organization_id: int | None = None, progress: Progress | None = None) -> int:
        """Rebuild the full-text index, the lexicon, and the planner's statistics (the whole table:
        PostgreSQL indexes are not per organisation)."""
        # CONCURRENTLY keeps the table writable meanwhile, but cannot run inside a transaction.
        concurrently = "" if connection.in_atomic_block else " CONCURRENTLY"
        steps = [
            lambda cursor: cursor.execute(f"REINDEX INDEX{concurrently} msg_search_vector"),
            lambda cursor: self.lexicon_rebuild(),
            lambda cursor: cursor.execute(f"ANALYZE {TABLE}"),
        ]
        for done, step in enumerate(steps, start=1):
            with connection.cursor() as cursor:
                step(cursor)
            if progress:
                progress(done, len(steps))
        return Message.objects.count()
