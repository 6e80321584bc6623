"""Reads of conversations and messages, always through tenancy scoping (`scoped()`).

The inbox list is `inbox_conversations` (one page) and `inbox_counts` (the views' tabs), both driven by an
`InboxQuery` parsed from the page's querystring: a value that makes no sense is left out and said so in
`InboxQuery.problems`, never an error page.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Substr
from django.http import QueryDict
from django.utils import timezone

from apps.accounts.models import Membership, Role, Team
from apps.accounts.tenancy import scoped
from apps.core.parsing import ascii_int

from .labels import Level, Sentiment
from .models import Conversation, Message, NeedsReply, Tag

INBOX_VIEWS = {
    # What waits for the brand and must be answered (or is not triaged yet): the agents' default view.
    "needs_reply": "Needs reply",
    "mine": "Mine",
    "unassigned": "Unassigned",
    "team": "My team's",
    "all": "All",
}
INBOX_SORTS = {
    "priority": "Priority, highest first",
    "newest": "Newest activity first",
    "oldest": "Oldest activity first",
    "sla": "SLA due, soonest first",
}
# Each order ends on the id, so that pages never overlap; each is the order of an index (models.py).
_SORT_ORDER = {
    "priority": ("-priority", "-last_message_at", "-id"),
    "newest": ("-last_message_at", "-id"),
    "oldest": ("last_message_at", "id"),
    "sla": ("sla_due_at", "id"),
}
PAGE_SIZE = 50
# Pages are read with OFFSET: bounded, so a page costs at most MAX_PAGE × PAGE_SIZE index entries; past
# a thousand conversations a filter finds things faster than paging does.
MAX_PAGE = 20
# Counting stops here: an exact count of a large view reads every row of it, and "999+" says enough.
COUNT_CAP = 1000
PREVIEW_CHARS = 160
INBOX_ROLES = (Role.ADMIN, Role.COMMUNITY_MANAGER)
NEEDS_REPLY_CHOICES = dict(NeedsReply.choices)
_LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class InboxFilters:
    """The inbox's filters; each is optional, and all of them narrow the list together."""

    brand: int | None = None
    channel: int | None = None
    sentiment: str = ""
    intent: str = ""
    language: str = ""
    priority: str = ""
    status: str = ""
    tags: tuple[int, ...] = ()
    assignee: int | None = None
    team: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    # Listening: conversations with a message that a listening query tagged for the brand `about` (at
    # `level`, naming `competitor`), wherever the conversation is: where a dashboard's share of voice and
    # listening levels drill down to.
    about: int | None = None
    level: str = ""
    competitor: str = ""
    # The triage decision of what waits for the brand (apps.classification.triage).
    needs_reply: str = ""

    def condition(self) -> Q:
        condition = Q()
        for name in ("brand", "channel", "assignee", "team"):
            if getattr(self, name) is not None:
                condition &= Q(**{f"{name}_id": getattr(self, name)})
        for name in ("sentiment", "intent", "language", "status", "needs_reply"):
            if getattr(self, name):
                condition &= Q(**{name: getattr(self, name)})
        if self.priority:
            condition &= _priority_condition(self.priority)
        if self.tags:
            tagged = Conversation.tags.through.objects.filter(
                conversation_id=OuterRef("pk"), tag_id__in=self.tags
            )
            condition &= Q(Exists(tagged))
        if self.date_from:
            condition &= Q(last_message_at__gte=_start_of(self.date_from))
        if self.date_to:
            condition &= Q(last_message_at__lt=_start_of(self.date_to + timedelta(days=1)))
        if self.about is not None:
            condition &= Q(Exists(self._tagged()))
        return condition

    def _tagged(self) -> QuerySet:
        # Listening's mentions (listening sits above conversations) are reached through the messages' reverse
        # relation, every condition in one filter() so that they hold for one and the same mention. A mention
        # the classifier judged not to be about the brand does not count, as on the dashboards.
        mention = {"mentions__brand_id": self.about}
        if self.level:
            mention["mentions__level"] = self.level
        if self.competitor:
            mention["mentions__competitor"] = self.competitor
        return Message.objects.filter(
            Q(mentions__relevant__isnull=True) | Q(mentions__relevant=True),
            conversation_id=OuterRef("pk"),
            **mention,
        )


def _priority_condition(level: str) -> Q:
    levels = Conversation.PRIORITY_LEVELS
    position = [name for name, _ in levels].index(level)
    condition = Q(priority__gte=levels[position][1]) if position < len(levels) - 1 else Q()
    if position > 0:
        condition &= Q(priority__lt=levels[position - 1][1])
    return condition


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class InboxQuery:
    """What the inbox page shows: a view, filters, an order and a page, read from a querystring."""

    view: str = "all"
    filters: InboxFilters = field(default_factory=InboxFilters)
    # The view a bare querystring shows (agents start on "needs_reply"): left out of the querystring.
    default_view: str = "all"
    sort: str = "priority"
    page: int = 1
    # Values of the querystring that were left out, and why: shown above the list.
    problems: tuple[str, ...] = ()

    @classmethod
    def parse(
        cls, params: QueryDict, *, intent_labels: Collection[str], default_view: str = "all"
    ) -> InboxQuery:
        reader = _ParamReader(params)
        filters = InboxFilters(
            brand=reader.number("brand"),
            channel=reader.number("channel"),
            sentiment=reader.choice("sentiment", Sentiment.values),
            intent=reader.choice("intent", intent_labels),
            language=reader.language("language"),
            priority=reader.choice("priority", [name for name, _ in Conversation.PRIORITY_LEVELS]),
            status=reader.choice("status", Conversation.Status.values),
            tags=reader.numbers("tag"),
            assignee=reader.number("assignee"),
            team=reader.number("team"),
            date_from=reader.day("from"),
            date_to=reader.day("to"),
            about=reader.number("about"),
            level=reader.choice("level", Level.values),
            competitor=reader.text("competitor", max_length=200),
            needs_reply=reader.choice("needs_reply", NEEDS_REPLY_CHOICES),
        )
        if (filters.level or filters.competitor) and filters.about is None:
            reader.problems.append("level, competitor: they need about=<brand>, the brand listening tagged")
            filters = replace(filters, level="", competitor="")
        if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
            reader.problems.append("to: the end date is before the start date")
            filters = replace(filters, date_to=None)
        page = reader.number("page") or 1
        if page > MAX_PAGE:
            reader.problems.append(f"page: the list stops at page {MAX_PAGE}; narrow it with a filter")
        return cls(
            # The default view is where a bare /inbox/ lands; a link with filters (a dashboard's drill-down)
            # and no view means all of them.
            view=reader.choice(
                "view", INBOX_VIEWS, default=default_view if not any(params.values()) else "all"
            ),
            default_view=default_view,
            filters=filters,
            sort=reader.choice("sort", INBOX_SORTS, default="priority"),
            page=min(max(page, 1), MAX_PAGE),
            problems=tuple(reader.problems),
        )

    def params(self, **changes) -> list[tuple[str, str]]:
        """The querystring's pairs, defaults left out; `changes` replaces view, sort or page."""
        query = replace(self, **changes)
        given = query.filters
        pairs = [("view", query.view)]
        pairs += [(name, getattr(given, name)) for name in ("brand", "channel", "sentiment", "intent")]
        pairs += [(name, getattr(given, name)) for name in ("language", "priority", "status", "needs_reply")]
        pairs += [("tag", tag) for tag in given.tags]
        pairs += [("assignee", given.assignee), ("team", given.team)]
        pairs += [("from", given.date_from), ("to", given.date_to)]
        pairs += [("about", given.about), ("level", given.level), ("competitor", given.competitor)]
        pairs += [("sort", query.sort if query.sort != "priority" else "")]
        pairs += [("page", query.page if query.page != 1 else "")]  # ids of 1 (brand=1...) stay
        pairs = [(name, str(value)) for name, value in pairs if value not in ("", None)]
        # The view is left out where the page shows it anyway: "all" with any other value (a querystring
        # with filters and no view means all), the default view alone (where a bare /inbox/ lands).
        if (query.view == "all" and len(pairs) > 1) or pairs == [("view", query.default_view)]:
            pairs = pairs[1:]
        return pairs

    def querystring(self, **changes) -> str:
        return urlencode(self.params(**changes))


class _ParamReader:
    """Reads one querystring, keeping what is valid and a sentence for each value it leaves out."""

    def __init__(self, params: QueryDict):
        self.params = params
        self.problems: list[str] = []

    def _text(self, name: str) -> str:
        return (self.params.get(name) or "").strip()

    def text(self, name: str, *, max_length: int) -> str:
        value = self._text(name)
        if len(value) > max_length:
            self._refuse(name, value, f"is longer than {max_length} characters")
            return ""
        return value

    def _refuse(self, name: str, value: str, why: str) -> None:
        shown = value if len(value) <= 40 else f"{value[:40]}…"
        self.problems.append(f"{name}: “{shown}” {why}")

    def choice(self, name: str, allowed: Collection[str], default: str = "") -> str:
        value = self._text(name)
        if value and value not in allowed:
            self._refuse(name, value, f"is not one of {', '.join(allowed)}")
            return default
        return value or default

    def number(self, name: str) -> int | None:
        value = self._text(name)
        if value and ascii_int(value) is None:
            self._refuse(name, value, "is not an id")
            return None
        return ascii_int(value)

    def numbers(self, name: str) -> tuple[int, ...]:
        found = []
        for value in self.params.getlist(name):
            value = value.strip()
            if (number := ascii_int(value)) is not None:
                found.append(number)
            elif value:
                self._refuse(name, value, "is not an id")
        return tuple(dict.fromkeys(found))

    def language(self, name: str) -> str:
        value = self._text(name)
        if value and not _LANGUAGE_CODE.match(value):
            self._refuse(name, value, "is not a language code such as en or pt-BR")
            return ""
        return value

    def day(self, name: str) -> date | None:
        value = self._text(name)
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            self._refuse(name, value, "is not a date (YYYY-MM-DD)")
            return None


@dataclass(frozen=True)
class InboxPage:
    conversations: list[Conversation]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def first_position(self) -> int:
        return (self.number - 1) * PAGE_SIZE + 1

    @property
    def last_position(self) -> int:
        return self.first_position + len(self.conversations) - 1


def _view_condition(view: str, membership: Membership) -> Q:
    if view == "needs_reply":
        # Not triaged yet counts: nothing is hidden before the classifier has read it.
        return Q(needs_reply__in=[NeedsReply.REPLY, ""])
    if view == "mine":
        return Q(assignee_id=membership.user_id)
    if view == "unassigned":
        return Q(assignee__isnull=True)
    if view == "team":
        # Read first, so that the planner sees the ids (and its statistics of them), not a subquery.
        teams = Team.objects.filter(organization_id=membership.organization_id, members=membership.user_id)
        return Q(team_id__in=list(teams.values_list("pk", flat=True)))
    return Q()


def _inbox_queryset(membership: Membership, view: str, filters: InboxFilters) -> QuerySet[Conversation]:
    # The views show what agents work on unless the filters name a status; `status IN (...)` is written
    # exactly as the partial indexes' condition, so that PostgreSQL can prove they apply.
    statuses = Q() if filters.status else Q(status__in=[str(s) for s in Conversation.ACTIVE_STATUSES])
    return scoped(Conversation, membership).filter(
        statuses, _view_condition(view, membership), filters.condition()
    )


def inbox_conversations(
    *,
    membership: Membership,
    view: str = "all",
    filters: InboxFilters | None = None,
    sort: str = "priority",
    page: int = 1,
) -> InboxPage:
    """One page of the inbox list, with what its rows show (brand, channel, customer, assignee, tags, a
    preview of the latest message) loaded in three queries."""
    offset = (page - 1) * PAGE_SIZE
    order = _SORT_ORDER[sort]
    # The page's ids are chosen on the conversations table alone (an index walk, or a top-N sort of the
    # matching rows), and only those rows are joined to what they show: joined first, PostgreSQL would
    # join every matching row before sorting whenever no index gives the order.
    page_ids = _inbox_queryset(membership, view, filters or InboxFilters()).order_by(*order)
    rows = list(
        scoped(Conversation, membership)
        .filter(pk__in=page_ids.values("pk")[offset : offset + PAGE_SIZE + 1])
        .select_related("brand", "channel", "customer", "assignee")
        .only(
            *("subject", "status", "priority", "sentiment", "intent", "language", "needs_reply"),
            *("message_count", "version"),
            *("last_message_at", "sla_due_at", "brand__name", "channel__kind", "channel__name"),
            *("customer__display_name", "assignee__username", "assignee__first_name", "assignee__last_name"),
        )
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("name", "color")))
        .order_by(*order)
    )
    conversations = rows[:PAGE_SIZE]
    _attach_previews(conversations, membership)
    return InboxPage(conversations=conversations, number=page, has_next=len(rows) > PAGE_SIZE)


def _attach_previews(conversations: list[Conversation], membership: Membership) -> None:
    """Set `preview` on each conversation: the start of its latest message that is not a note."""
    if not conversations:
        return
    latest = dict(
        scoped(Message, membership)
        .filter(conversation_id__in=[c.pk for c in conversations])
        .exclude(direction=Message.Direction.NOTE)
        .order_by("conversation_id", "-sent_at", "-id")
        .distinct("conversation_id")
        .annotate(preview=Substr("text", 1, PREVIEW_CHARS))
        .values_list("conversation_id", "preview")
    )
    for conversation in conversations:
        conversation.preview = latest.get(conversation.pk, "")


def conversation_members(*, conversation: Conversation) -> QuerySet[Membership]:
    """The members who may work on the conversation (be assigned it, be mentioned in its notes, view it
    live): the inbox roles of its organisation, with access to its brand."""
    brands = Membership.brands.through.objects.filter(membership_id=OuterRef("pk"))
    return (
        Membership.objects.filter(organization_id=conversation.organization_id, role__in=INBOX_ROLES)
        .filter(~Exists(brands) | Exists(brands.filter(brand_id=conversation.brand_id)))
        .select_related("user")
        .order_by("user__username")
    )


def inbox_counts(*, membership: Membership) -> dict[str, int]:
    """How many conversations each view holds (before the filter bar's filters), counted up to COUNT_CAP:
    a count of COUNT_CAP means "at least that many". Each is an index-only count; with the filters, a
    narrow filter would make each count read most of the view."""
    return {
        view: _inbox_queryset(membership, view, InboxFilters()).order_by()[:COUNT_CAP].count()
        for view in INBOX_VIEWS
    }


def inbox_agents(*, membership: Membership) -> QuerySet[Membership]:
    """The members of the organisation who work the inbox: who a conversation may be assigned to."""
    return (
        scoped(Membership, membership)
        .filter(role__in=INBOX_ROLES)
        .select_related("user")
        .order_by("user__username")
    )


def conversation_thread(*, conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related("author_identity", "author_user", "channel").order_by(
        "sent_at", "pk"
    )


# The audit actions that change what an agent sees of a conversation (and its `version`).
_CHANGES = (
    "conversation.assigned",
    "conversation.status",
    "conversation.tagged",
    "conversation.untagged",
    "conversation.priority",
)


@dataclass(frozen=True)
class ConversationChange:
    """The latest change someone made to a conversation, in words: "Yusuf took this", and when."""

    text: str
    at: datetime
    actor_id: int | None

    @property
    def ago(self) -> str:
        """ "3 s ago", "2 min ago", "5 h ago": how long ago, to the unit an agent reads at a glance."""
        seconds = max(0, int((timezone.now() - self.at).total_seconds()))
        if seconds < 60:
            return f"{seconds} s ago"
        if seconds < 3600:
            return f"{seconds // 60} min ago"
        return f"{seconds // 3600} h ago"


def conversation_last_change(*, conversation: Conversation) -> ConversationChange | None:
    """Who last changed the conversation's status, assignee or tags, and when (from the audit log)."""
    from django.contrib.auth import get_user_model

    from apps.core.models import AuditEvent

    event = (
        AuditEvent.objects.filter(
            organization_id=conversation.organization_id,
            target_type=Conversation._meta.label_lower,
            target_id=str(conversation.pk),
            action__in=_CHANGES,
        )
        .select_related("actor")
        .order_by("-created_at", "-pk")
        .first()
    )
    if event is None:
        return None

    def name(user) -> str:
        return (user.get_full_name() or user.username) if user else "CXM"

    actor = name(event.actor)
    if event.action == "conversation.assigned":
        assignee_id = event.data.get("assignee")
        if assignee_id is None:
            text = f"{actor} unassigned this"
        elif assignee_id == event.actor_id:
            text = f"{actor} took this"
        else:
            assignee = get_user_model().objects.filter(pk=assignee_id).first()
            text = f"{actor} assigned this to {name(assignee)}"
    elif event.action == "conversation.status":
        status = event.data.get("status", "")
        label = Conversation.Status(status).label if status in Conversation.Status.values else status
        text = (
            f"{actor} closed this" if status == Conversation.Status.CLOSED else f"{actor} set this to {label}"
        )
    elif event.action == "conversation.priority":
        text = f"{actor} set this to priority {event.data.get('priority', '')}"
    elif event.action == "conversation.tagged":
        text = f"{actor} tagged this “{event.data.get('tag', '')}”"
    else:
        text = f"{actor} took the tag “{event.data.get('tag', '')}” off this"
    return ConversationChange(text=text, at=event.created_at, actor_id=event.actor_id)
