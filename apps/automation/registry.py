"""The conditions a rule may test and the actions it may take, by name: each a small entry in a registry, so
that a new condition (another app's, such as triage's "needs reply") or action is one `register_*` call.

A condition reads what it needs from a `Subject` (the event, its conversation, its message when there is
one) and compares it with the rule's value through one of its operators. An action changes the conversation
through the domain's own services, as CXM (actor None), and returns what it did in words for the activity.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from apps.core.parsing import ascii_int


class RuleInvalid(ValueError):
    """A rule's condition or action that cannot be run; the message says which and why."""


@dataclass
class Subject:
    """What a rule is evaluated against."""

    event: str
    conversation: object
    message: object | None = None
    extra: dict = field(default_factory=dict)  # previous status, SLA target, changed attribute names
    # What the conditions read and found, by condition: a hundred rules testing the channel or the text
    # read it once for the message. `kept`: those of steady conditions (Condition.steady), kept after a
    # rule's action; `memo`: the others, which start again once the conversation is read again.
    memo: dict = field(default_factory=dict, repr=False, compare=False)
    kept: dict = field(default_factory=dict, repr=False, compare=False)
    # Set after a rule acted on the conversation: reads it again (once for all its subjects) when a condition
    # that an action may change, or the next rule's actions, need it. None when it is gone.
    reload: Callable[[], object] | None = field(default=None, repr=False, compare=False)
    gone: bool = field(default=False, repr=False, compare=False)

    def after_action(self, reload: Callable[[], object]) -> Subject:
        return Subject(self.event, self.conversation, self.message, self.extra, kept=self.kept, reload=reload)

    def current(self):
        """The conversation as the last rule's actions left it (None if it is gone)."""
        if self.reload is not None:
            fresh, self.reload = self.reload(), None
            self.gone = fresh is None
            if fresh is not None:
                self.conversation = fresh
        return None if self.gone else self.conversation

    def memo_for(self, entry: Condition | None) -> dict:
        if entry is None or entry.steady:
            return self.kept
        self.current()
        return self.memo

    def read(self, entry: Condition, condition: dict):
        memo = self.memo_for(entry)
        if not entry.cacheable:
            return entry.read(self, condition)
        key = (entry.name, condition.get("key"))
        try:
            return memo[key]
        except KeyError:
            value = memo[key] = entry.read(self, condition)
            return value

    def read_lower(self, entry: Condition, condition: dict) -> str:
        memo = self.memo_for(entry)
        key = (entry.name, condition.get("key"), "lower")
        try:
            return memo[key]
        except KeyError:
            value = memo[key] = str(self.read(entry, condition)).lower()
            return value

    @property
    def identities(self) -> list:
        # Kept on the conversation: every rule and message of an event reads them once.
        conversation = self.conversation
        if not hasattr(conversation, "_automation_identities"):
            conversation._automation_identities = list(conversation.customer.identities.all())
        return conversation._automation_identities


# ----------------------------------------------------------------------------------------------- conditions

LIST_OPS = ("in", "not_in")
NUMBER_OPS = ("gte", "lte", "eq")
TEXT_OPS = ("eq", "neq", "contains", "gte", "lte", "exists", "missing")
OP_WORDS = {
    "in": "is one of",
    "not_in": "is none of",
    "gte": "is at least",
    "lte": "is at most",
    "eq": "is",
    "neq": "is not",
    "contains": "contains",
    "exists": "is set",
    "missing": "is not set",
    "matches": "matches",
    "not_matches": "does not match",
    "is": "is",
}


@dataclass(frozen=True)
class Condition:
    name: str
    label: str
    ops: tuple[str, ...]
    read: Callable[[Subject, dict], object]
    hint: str = ""
    needs_key: bool = False
    # Checks the rule's value when it is saved (raise RuleInvalid); returns it normalised.
    clean: Callable[[object, object], object] | None = None
    # What reading it costs: 0 a field in memory, 1 related rows (loaded once per conversation), 2 a query or
    # a computation each time. A rule tests its cheap conditions first and stops at the first that fails.
    cost: int = 0
    # Whether the value read depends only on the subject (and the attribute key), so that it is read once
    # for all the rules; not when it depends on the rule's value (a listening query's match).
    cacheable: bool = True
    # Whether what it reads stays the same whatever a rule's action does (the brand, the channel, the
    # message's text or language): its outcome is kept for the rules after one that acted, which then need
    # not read the conversation again unless another condition or their actions need it.
    steady: bool = False


CONDITIONS: dict[str, Condition] = {}


def register_condition(condition: Condition) -> Condition:
    CONDITIONS[condition.name] = condition
    return condition


def _as_list(value) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    return [str(item).strip().lower() for item in value or [] if str(item).strip()]


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise RuleInvalid(f"“{value}” is not a number") from error


def _id(value) -> int:
    """A row's id as the rule names it, or RuleInvalid (never a lookup error reaching the caller)."""
    number = ascii_int(str(value))
    if number is None:
        raise RuleInvalid(f"“{value}” is not an id")
    return number


def compare(actual, op: str, value) -> bool:
    """The generic operators: lists compare case-insensitively, numbers as numbers."""
    if op in ("exists", "missing"):
        present = actual not in (None, "", [])
        return present if op == "exists" else not present
    if op in LIST_OPS:
        values = set(_as_list(value))
        actuals = (
            {str(a).lower() for a in actual}
            if isinstance(actual, list | set | tuple)
            else {str(actual).lower()}
        )
        hit = bool(values & actuals)
        return hit if op == "in" else not hit
    if actual is None or actual == "":
        return op == "neq"
    if op in ("gte", "lte"):
        try:
            left = float(actual)
        except (TypeError, ValueError):
            return False
        return left >= _number(value) if op == "gte" else left <= _number(value)
    if op == "eq":
        try:
            return float(actual) == float(value)
        except (TypeError, ValueError):
            return str(actual).strip().lower() == str(value).strip().lower()
    if op == "neq":
        return str(actual).strip().lower() != str(value).strip().lower()
    if op == "contains":
        return str(value).strip().lower() in str(actual).lower()
    raise RuleInvalid(f"unknown operator {op}")


def _label(subject: Subject, name: str) -> str:
    message = subject.message
    return (getattr(message, name, "") if message is not None else "") or getattr(
        subject.conversation, name, ""
    )


def _followers(subject: Subject, condition: dict):
    message = subject.message
    if message is not None and message.author_identity_id:
        author = next((i for i in subject.identities if i.pk == message.author_identity_id), None)
        if author is not None and author.followers is not None:
            return author.followers
    counts = [i.followers for i in subject.identities if i.followers is not None]
    return max(counts, default=None)


def _attribute(subject: Subject, condition: dict):
    return (subject.conversation.customer.attributes or {}).get(str(condition.get("key") or ""))


@functools.lru_cache(maxsize=512)
def _compiled_query(query_id: int, version: str):
    from apps.customers.kinds import ChannelKind
    from apps.listening.models import ListeningQuery
    from apps.listening.query import compile_matcher

    query = ListeningQuery.objects.filter(pk=query_id).values_list("query", flat=True).first()
    return compile_matcher(query, channels=ChannelKind.values) if query else None


def _listening_match(subject: Subject, condition: dict) -> bool:
    from apps.listening.models import ListeningQuery
    from apps.listening.query import Document

    query = (
        ListeningQuery.objects.filter(
            pk=condition.get("value"), organization_id=subject.conversation.organization_id
        )
        .values_list("pk", "updated_at")
        .first()
    )
    matcher = _compiled_query(query[0], str(query[1])) if query else None
    message = subject.message
    if matcher is None or message is None:
        return False
    return matcher(Document(text=message.text, language=message.language, channel=message.channel.kind))


def _clean_query(value, organization):
    from apps.listening.models import ListeningQuery

    if not ListeningQuery.objects.filter(pk=_id(value), organization=organization).exists():
        raise RuleInvalid(f"no listening query #{value} in this organisation")
    return _id(value)


def _within_hours(subject: Subject, condition: dict) -> str:
    from apps.routing.selectors import within_business_hours

    message = subject.message
    at = message.sent_at if message is not None else timezone.now()
    conversation = subject.conversation
    inside = within_business_hours(conversation.brand, at=at, team=conversation.team)
    return "inside" if inside else "outside"


def _clean_choice(*choices: str):
    def clean(value, organization):
        value = str(value).strip().lower()
        if value not in choices:
            raise RuleInvalid(f"choose {' or '.join(choices)}")
        return value

    return clean


for _condition in (
    Condition(
        "brand",
        "Brand (ids)",
        LIST_OPS,
        lambda s, c: str(s.conversation.brand_id),
        "brand ids, commas",
        steady=True,
    ),
    Condition(
        "channel",
        "Channel kind",
        LIST_OPS,
        lambda s, c: s.conversation.channel.kind,
        "telegram, email…",
        steady=True,
    ),
    Condition("language", "Language", LIST_OPS, lambda s, c: _label(s, "language"), "en, es…", steady=True),
    Condition("sentiment", "Sentiment", LIST_OPS, lambda s, c: _label(s, "sentiment"), "negative, neutral…"),
    Condition("intent", "Intent", LIST_OPS, lambda s, c: _label(s, "intent"), "complaint, question…"),
    Condition("priority", "Priority (0–100)", NUMBER_OPS, lambda s, c: s.conversation.priority, "a number"),
    Condition(
        "status", "Status", LIST_OPS, lambda s, c: s.conversation.status, "open, pending, snoozed, closed"
    ),
    Condition(
        "assigned",
        "Assigned",
        ("is",),
        lambda s, c: "yes" if s.conversation.assignee_id else "no",
        "yes or no",
        clean=_clean_choice("yes", "no"),
    ),
    Condition(
        "tag", "Tags", LIST_OPS, lambda s, c: [t.name for t in s.conversation.tags.all()], "tag names", cost=1
    ),
    Condition("followers", "Customer's followers", NUMBER_OPS, _followers, "a number", cost=1),
    Condition("customer_attribute", "Customer attribute", TEXT_OPS, _attribute, "the value", needs_key=True),
    Condition(
        "text",
        "Message text",
        ("contains",),
        lambda s, c: s.message.text if s.message else "",
        "words",
        steady=True,
    ),
    Condition(
        "listening_query",
        "Listening query",
        ("matches", "not_matches"),
        _listening_match,
        "the query's id",
        clean=_clean_query,
        cost=2,
        cacheable=False,
        steady=True,
    ),
    Condition(
        "business_hours",
        "Business hours",
        ("is",),
        _within_hours,
        "inside or outside",
        clean=_clean_choice("inside", "outside"),
        cost=2,
    ),
):
    register_condition(_condition)


def _needs_reply(subject: Subject, condition: dict) -> str:
    """Triage's decision (apps.classification.selectors.needs_reply_decision): the message's, else the
    conversation's; "" while it waits for the classifier (rules on "a message is classified" see it set)."""
    from apps.classification.selectors import needs_reply_decision

    return needs_reply_decision(subject.message or subject.conversation)["decision"]


def _clean_needs_reply(value, organization) -> list[str]:
    from apps.conversations.models import NeedsReply

    values = _as_list(value)
    wrong = [v for v in values if v not in NeedsReply.values]
    if not values or wrong:
        raise RuleInvalid(f"Needs reply: choose among {', '.join(NeedsReply.values)}")
    return values


register_condition(
    Condition(
        "needs_reply",
        "Needs reply (triage)",
        LIST_OPS,
        _needs_reply,
        "reply, optional, no_reply",
        clean=_clean_needs_reply,
        cost=2,
    )
)


def _never(subject: Subject) -> bool:
    return False


def condition_test(condition: dict) -> Callable[[Subject], bool]:
    """The condition as a test of a subject, its value normalised once (the same outcome as `compare`):
    rules compile their conditions once per rule set, not once per message."""
    entry = CONDITIONS.get(str(condition.get("field")))
    if entry is None:
        return _never  # a condition whose app is gone never holds: the rule stays quiet, not wrong
    op = condition.get("op")
    value = condition.get("value")

    def read(subject: Subject):
        return subject.read(entry, condition)

    if op == "matches":
        return lambda subject: bool(read(subject))
    if op == "not_matches":
        return lambda subject: not read(subject)
    if op == "is":
        expected = str(value).strip().lower()
        return lambda subject: str(read(subject)).lower() == expected
    if op in LIST_OPS:
        values = frozenset(_as_list(value))
        wanted = op == "in"

        def listed(subject: Subject) -> bool:
            actual = read(subject)
            if isinstance(actual, list | set | tuple):
                hit = not values.isdisjoint(str(a).lower() for a in actual)
            else:
                hit = str(actual).lower() in values
            return hit is wanted

        return listed
    if op == "contains" and entry.cacheable:
        needle = str(value).strip().lower()

        def contains(subject: Subject) -> bool:
            actual = read(subject)
            if actual is None or actual == "":
                return False
            return needle in subject.read_lower(entry, condition)

        return contains
    return lambda subject: compare(read(subject), op, value)


def conditions_test(conditions: list[dict]) -> Callable[[Subject], bool]:
    """A rule's conditions as one test: all of them hold, the cheap ones tried first, each outcome kept on
    the subject for the other rules that test the same condition."""
    entries = [(CONDITIONS.get(str(condition.get("field"))), condition) for condition in conditions]
    checks = [
        (entry, json.dumps(condition, sort_keys=True, default=str), condition_test(condition))
        for entry, condition in sorted(entries, key=lambda pair: pair[0].cost if pair[0] else 0)
    ]

    def test(subject: Subject) -> bool:
        for entry, key, check in checks:
            memo = subject.memo_for(entry)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = check(subject)
            if not hit:
                return False
        return True

    return test


def condition_clean(condition: dict, organization) -> dict:
    entry = CONDITIONS.get(str(condition.get("field")))
    if entry is None:
        raise RuleInvalid(f"unknown condition “{condition.get('field')}”")
    op = str(condition.get("op") or entry.ops[0])
    if op not in entry.ops:
        words = ", ".join(OP_WORDS[o] for o in entry.ops)
        raise RuleInvalid(f"{entry.label}: the operator must be one of: {words}")
    value = condition.get("value", "")
    key = str(condition.get("key") or "").strip()
    if entry.needs_key and not key:
        raise RuleInvalid(f"{entry.label}: name the attribute")
    if entry.clean is not None:
        value = entry.clean(value, organization)
    elif op in LIST_OPS:
        value = _as_list(value)
        if not value:
            raise RuleInvalid(f"{entry.label}: give at least one value")
    elif op in ("gte", "lte") or (op == "eq" and entry.ops == NUMBER_OPS):
        value = _number(value)
    elif op not in ("exists", "missing"):
        value = str(value).strip()
    cleaned = {"field": entry.name, "op": op, "value": value}
    if entry.needs_key:
        cleaned["key"] = key
    return cleaned


# -------------------------------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    run: Callable[[object, object], str]  # (conversation, value) → what was done
    hint: str = ""
    clean: Callable[[object, object], object] | None = None  # (value, organization) → value, or RuleInvalid
    # The same on many conversations at once, where the domain has a bulk service: (conversations, value).
    run_many: Callable[[list, object], str] | None = None


ACTIONS: dict[str, Action] = {}


def register_action(action: Action) -> Action:
    ACTIONS[action.name] = action
    return action


def _clean_team(value, organization):
    from apps.accounts.models import Team

    team = Team.objects.filter(organization=organization, pk=_id(value)).first()
    if team is None:
        raise RuleInvalid(f"no team #{value} in this organisation")
    return team.pk


def _assign_team(conversation, value) -> str:
    from apps.accounts.models import Team
    from apps.conversations.services import conversation_set_team

    team = Team.objects.get(pk=value, organization_id=conversation.organization_id)
    conversation_set_team(conversation=conversation, team=team, actor=None)
    return f"put in the team {team.name}"


def _clean_agent(value, organization):
    from apps.accounts.models import Membership

    membership = Membership.objects.filter(organization=organization, user_id=_id(value)).first()
    if membership is None or not membership.can_work_inbox:
        raise RuleInvalid(f"user #{value} does not work this organisation's inbox")
    return membership.user_id


def _assign_agent(conversation, value) -> str:
    from django.contrib.auth import get_user_model

    from apps.conversations.services import conversation_assign_to

    agent = get_user_model().objects.get(pk=value)
    conversation_assign_to(conversation=conversation, assignee=agent, actor=None)
    return f"assigned to {agent.username}"


def _auto_assign(conversation, value) -> str:
    from apps.routing.services import conversation_auto_assign

    membership = conversation_auto_assign(conversation, actor=None, reason="an automation rule")
    if membership is None:
        return "auto-assignment: nobody available, left in the queue"
    return f"auto-assigned to {membership.user.username}"


def _clean_text(value, organization):
    value = str(value or "").strip()
    if not value:
        raise RuleInvalid("give the text")
    return value


def _tag_many(conversations: list, value) -> str:
    from apps.conversations.services import conversations_bulk_tag

    tag = conversations_bulk_tag(conversations=conversations, name=value, actor=None)
    return f"tagged {tag.name}"


def _tag(conversation, value) -> str:
    return _tag_many([conversation], value)


def _clean_priority(value, organization):
    number = _number(value)
    if not 0 <= number <= 100:
        raise RuleInvalid("a priority is between 0 and 100")
    return number


def _set_priority(conversation, value) -> str:
    from apps.conversations.services import conversation_set_priority

    conversation_set_priority(conversation=conversation, priority=float(value), actor=None)
    return f"priority set to {float(value):g}"


def _clean_status(value, organization):
    from apps.conversations.models import Conversation

    value = str(value).strip().lower()
    if value not in Conversation.Status.values or value == Conversation.Status.SNOOZED:
        raise RuleInvalid("the status is open, pending or closed (snoozing is its own action)")
    return value


def _set_status_many(conversations: list, value) -> str:
    from apps.conversations.services import conversations_bulk_set_status

    conversations_bulk_set_status(conversations=conversations, status=value, actor=None)
    return f"status set to {value}"


def _set_status(conversation, value) -> str:
    return _set_status_many([conversation], value)


def _clean_minutes(value, organization):
    minutes = _number(value)
    if not 1 <= minutes <= 60 * 24 * 365:
        raise RuleInvalid("snooze for a minute to a year")
    return int(minutes)


def _snooze(conversation, value) -> str:
    from apps.conversations.services import conversation_snooze

    until = timezone.now() + timedelta(minutes=int(value))
    conversation_snooze(conversation=conversation, until=until, actor=None)
    return f"snoozed for {int(value)} minutes"


def _clean_saved_reply(value, organization):
    from apps.replies.models import SavedReply

    if not SavedReply.objects.filter(organization=organization, pk=_id(value)).exists():
        raise RuleInvalid(f"no saved reply #{value} in this organisation")
    return _id(value)


def _send_saved_reply(conversation, value) -> str:
    from apps.replies.models import SavedReply
    from apps.replies.services import reply_send
    from apps.replies.variables import variable_values, variables_fill

    saved = SavedReply.objects.get(pk=value, organization_id=conversation.organization_id)
    if saved.brand_id not in (None, conversation.brand_id):
        raise RuleInvalid(f"the saved reply “{saved.title}” is for another brand")
    values = variable_values(customer=conversation.customer, brand=conversation.brand, agent=None)
    reply_send(conversation=conversation, author=None, text=variables_fill(saved.body, values).text)
    return f"sent the saved reply “{saved.title}”"


def _note(conversation, value) -> str:
    from apps.conversations.services import note_add

    note_add(conversation=conversation, author=None, text=value)
    return "added a note"


def _notify(conversation, value) -> str:
    from django.contrib.auth import get_user_model

    from apps.conversations.selectors import conversation_members
    from apps.notifications.models import Notification
    from apps.notifications.services import notifications_send

    if value == "assignee":
        recipients = [conversation.assignee] if conversation.assignee_id else []
    else:
        recipients = list(get_user_model().objects.filter(pk=value))
    allowed = set(conversation_members(conversation=conversation).values_list("user_id", flat=True))
    recipients = [user for user in recipients if user.pk in allowed]
    if not recipients:
        return "nobody to notify"
    notifications_send(
        recipients=recipients, kind=Notification.Kind.AUTOMATION, conversation=conversation, actor=None
    )
    return f"notified {', '.join(user.username for user in recipients)}"


def _clean_recipient(value, organization):
    value = str(value).strip()
    return "assignee" if value == "assignee" else _clean_agent(value, organization)


def _mark_spam_many(conversations: list, value) -> str:
    from apps.conversations.services import conversations_mark_spam

    conversations_mark_spam(conversations=conversations, actor=None)
    return "marked as spam"


def _mark_spam(conversation, value) -> str:
    return _mark_spam_many([conversation], value)


def _clean_url(value, organization):
    from urllib.parse import urlsplit

    value = str(value).strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RuleInvalid("the webhook is an http(s) URL")
    return value


def _webhook(conversation, value) -> str:
    from django.db import transaction

    from .services import current_chain
    from .tasks import rule_webhook_call_task

    conversation_id = conversation.pk
    chain = current_chain()
    rule_id = chain[-1] if chain else None
    transaction.on_commit(lambda: rule_webhook_call_task.delay(conversation_id, value, rule_id))
    return f"webhook queued to {value}"


for _action in (
    Action("assign_team", "Put in a team", _assign_team, "the team's id", _clean_team),
    Action("assign_agent", "Assign to an agent", _assign_agent, "the agent's user id", _clean_agent),
    Action("auto_assign", "Auto-assign (routing)", _auto_assign, "nothing"),
    Action("tag", "Tag", _tag, "a tag name", _clean_text, _tag_many),
    Action("set_priority", "Set the priority", _set_priority, "0–100", _clean_priority),
    Action(
        "set_status",
        "Set the status",
        _set_status,
        "open, pending or closed",
        _clean_status,
        _set_status_many,
    ),
    Action("snooze", "Snooze", _snooze, "minutes", _clean_minutes),
    Action(
        "send_saved_reply",
        "Send a saved reply",
        _send_saved_reply,
        "the saved reply's id",
        _clean_saved_reply,
    ),
    Action("add_note", "Add an internal note", _note, "the note", _clean_text),
    Action("notify", "Notify", _notify, "a user id, or assignee", _clean_recipient),
    Action("mark_spam", "Mark as spam", _mark_spam, "nothing", run_many=_mark_spam_many),
    Action("webhook", "Call a webhook", _webhook, "an https URL", _clean_url),
):
    register_action(_action)


def action_clean(action: dict, organization) -> dict:
    entry = ACTIONS.get(str(action.get("type")))
    if entry is None:
        raise RuleInvalid(f"unknown action “{action.get('type')}”")
    value = action.get("value", "")
    if entry.clean is not None:
        try:
            value = entry.clean(value, organization)
        except RuleInvalid as error:
            raise RuleInvalid(f"{entry.label}: {error}") from error
    else:
        value = ""
    return {"type": entry.name, "value": value}
