from urllib.parse import urlsplit, urlunsplit

from django.contrib import messages as flash
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from apps.accounts.models import Role
from apps.accounts.permissions import current_membership, inbox_required
from apps.accounts.tenancy import get_visible_or_404, scoped
from apps.classification.models import Task
from apps.classification.selectors import label_choices
from apps.classification.services import label_correct
from apps.conversations.models import Conversation, Message, Tag
from apps.conversations.selectors import (
    COUNT_CAP,
    INBOX_VIEWS,
    MAX_PAGE,
    InboxQuery,
    conversation_last_change,
    conversation_thread,
    inbox_agents,
    inbox_conversations,
    inbox_counts,
)
from apps.conversations.services import (
    ConversationActionError,
    ConversationChanged,
    conversation_assign_to,
    conversation_snooze,
    conversation_untag,
    conversations_bulk_assign,
    conversations_bulk_set_status,
    conversations_bulk_tag,
    conversations_mark_spam,
    conversations_merge,
    note_add,
)
from apps.core.parsing import ascii_int
from apps.customers.selectors import customer_merges, customer_pending_suggestions
from apps.customers.services import MergeError, customer_unmerge, merge_suggestion_decide
from apps.notifications.selectors import notification_list
from apps.notifications.services import notifications_mark_read

from .conversation_selectors import (
    THREAD_MODES,
    conversation_activity,
    conversation_members,
    customer_brand_thread,
    customer_profile,
)
from .selectors import inbox_filter_choices, saved_views
from .services import SavedViewError, saved_view_delete, saved_view_save

# The id of the list's container: its own refresh (live events) replaces the URL instead of pushing one.
RESULTS_ID = "inbox-results"
# The container the open conversation is swapped into, beside the list.
CONVERSATION_PANE_ID = "conversation-pane"
# The open conversation's status, assignment and tags, fetched again when a colleague changes them.
CONTROLS_ID = "conversation-controls"


@inbox_required
def index(request):
    """The inbox list. htmx requests (tabs, filters, pages, live refreshes) get only the results."""
    membership = current_membership(request)
    query = _list_query(membership, request)
    context = _list_context(request, membership, query)
    if request.htmx and not request.htmx.boosted:
        response = render(request, "inbox/index.html#results", context)
        # The address bar shows the list's normalised querystring, so it can be bookmarked and shared (with
        # the open conversation's address, when one is open beside the list).
        pushed = "HX-Replace-Url" if request.htmx.trigger == RESULTS_ID else "HX-Push-Url"
        response[pushed] = _list_url(query, open_conversation=_open_conversation_path(request))
        return response
    return render(request, "inbox/index.html", {**context, **_list_page_context(membership, query)})


def _list_query(membership, request) -> InboxQuery:
    intent_labels = label_choices(organization_id=membership.organization_id)[Task.INTENT]
    # Agents start on what needs a reply; admins, who look over everything, on all.
    default_view = "all" if membership.role == Role.ADMIN else "needs_reply"
    return InboxQuery.parse(request.GET, intent_labels=intent_labels, default_view=default_view)


def _list_context(request, membership, query: InboxQuery) -> dict:
    """The list's results (its `results` partial): the view's tabs, one page of conversations, the pager."""
    page = inbox_conversations(
        membership=membership, view=query.view, filters=query.filters, sort=query.sort, page=query.page
    )
    return {
        "section": "inbox",
        "query": query,
        "list_query": query.querystring(),
        "list_path": reverse("inbox:index"),
        "page": page,
        "pager": {
            "previous": query.querystring(page=page.number - 1) if page.has_previous else None,
            "next": query.querystring(page=page.number + 1)
            if page.has_next and page.number < MAX_PAGE
            else None,
        },
        "tabs": _view_tabs(query, inbox_counts(membership=membership)),
        "now": timezone.now(),
        # Rows link to conversation_path + id: one reverse() for the page instead of one per row.
        "conversation_path": reverse("inbox:conversation", args=[0]).removesuffix("0/"),
    }


def _list_page_context(membership, query: InboxQuery) -> dict:
    """What the whole list pane shows besides its results: the filters' choices, the saved views."""
    return {
        "choices": inbox_filter_choices(
            membership=membership,
            intent_labels=label_choices(organization_id=membership.organization_id)[Task.INTENT],
        ),
        "saved_views": saved_views(membership=membership),
        "statuses": Conversation.Status.choices,
    }


def _open_conversation_path(request) -> str | None:
    """The path of the conversation open beside the list, read from the address the htmx request came from."""
    path = urlsplit(request.htmx.current_url or "").path if request.htmx else ""
    try:
        match = resolve(path) if path else None
    except Resolver404:
        return None
    if match is None or match.view_name != "inbox:conversation":
        return None
    return path


def _list_url(query: InboxQuery, *, open_conversation: str | None = None) -> str:
    path = open_conversation or reverse("inbox:index")
    querystring = query.querystring()
    return f"{path}?{querystring}" if querystring else path


def _view_tabs(query: InboxQuery, counts: dict[str, int]) -> list[dict]:
    return [
        {
            "key": key,
            "label": label,
            "count": f"{COUNT_CAP - 1}+" if counts[key] >= COUNT_CAP else str(counts[key]),
            "querystring": query.querystring(view=key, page=1),
            "current": key == query.view,
        }
        for key, label in INBOX_VIEWS.items()
    ]


def _posted_conversations(membership, posted_ids: list[str]) -> list[Conversation]:
    """The posted conversations, every one of them visible to the membership, or a 404 for all."""
    try:
        ids = {int(value) for value in posted_ids}
    except ValueError as error:
        raise Http404("not found") from error
    conversations = list(scoped(Conversation, membership).filter(pk__in=ids))
    if len(conversations) != len(ids):
        raise Http404("not found")
    return conversations


def _posted_versions(request, conversations: list[Conversation]) -> dict[int, int]:
    """The versions the agent saw of the ticked conversations (the rows' `seen-<id>`)."""
    versions = {c.pk: ascii_int(request.POST.get(f"seen-{c.pk}", "").strip()) for c in conversations}
    return {pk: version for pk, version in versions.items() if version is not None}


def _run_bulk_action(request, membership, action: str, conversations: list[Conversation]) -> str:
    """Run one bulk action through its service; returns what to tell the agent."""
    count = len(conversations)
    seen = _posted_versions(request, conversations)
    if action == "assign_me":
        conversations_bulk_assign(
            conversations=conversations, assignee=request.user, actor=request.user, seen=seen
        )
        return f"Assigned {count} to you."
    if action == "assign":
        chosen = request.POST.get("assignee", "")
        if chosen == "none":
            conversations_bulk_assign(
                conversations=conversations, assignee=None, actor=request.user, seen=seen
            )
            return f"Unassigned {count}."
        if not chosen:
            raise ConversationActionError("choose who to assign them to")
        agent = get_visible_or_404(inbox_agents(membership=membership), membership, user_id=chosen).user
        conversations_bulk_assign(conversations=conversations, assignee=agent, actor=request.user, seen=seen)
        return f"Assigned {count} to {agent.get_full_name() or agent.username}."
    if action == "tag":
        tag = conversations_bulk_tag(
            conversations=conversations, name=request.POST.get("tag_name", ""), actor=request.user, seen=seen
        )
        return f"Tagged {count} “{tag.name}”."
    if action in ("status", "close"):
        status = Conversation.Status.CLOSED if action == "close" else request.POST.get("status", "")
        conversations_bulk_set_status(
            conversations=conversations, status=status, actor=request.user, seen=seen
        )
        return f"Status of {count}: {Conversation.Status(status).label}."
    if action == "spam":
        conversations_mark_spam(conversations=conversations, actor=request.user, seen=seen)
        return f"Marked {count} as spam and closed."
    if action == "merge":
        kept = conversations_merge(conversations=conversations, actor=request.user, seen=seen)
        return f"Merged into “{kept}”."
    raise ConversationActionError("choose an action")


@inbox_required
@require_POST
def bulk_action(request):
    """The list's bulk actions and merge, on the conversations ticked in it."""
    membership = current_membership(request)
    conversations = _posted_conversations(membership, request.POST.getlist("conversation"))
    try:
        message = _run_bulk_action(request, membership, request.POST.get("action", ""), conversations)
    except ConversationChanged as changed:
        return _bulk_conflict(request, changed.changed)
    except ConversationActionError as error:
        return _bulk_reply(request, _sentence(error), ok=False)
    return _bulk_reply(request, message, ok=True)


def _bulk_conflict(request, changed: list[Conversation]):
    """Some ticked conversations changed since the list was shown: say which, by whom and when, and offer
    to do it anyway over what is there now (HTTP 409; nothing was done)."""
    versions = {c.pk: c.version for c in changed}
    fields = [
        (name, value)
        for name, value in request.POST.items()
        if name not in ("csrfmiddlewaretoken", "conversation") and not name.startswith("seen-")
    ]
    for value in request.POST.getlist("conversation"):
        fields.append(("conversation", value))
    # Those that did not change keep the version the agent saw; the changed ones, the one they see now.
    for pk in {ascii_int(value) for value in request.POST.getlist("conversation")} - {None}:
        seen = versions.get(pk, ascii_int(request.POST.get(f"seen-{pk}", "").strip()))
        if seen is not None:
            fields.append((f"seen-{pk}", str(seen)))
    conflict = {
        "changes": [{"conversation": c, "change": conversation_last_change(conversation=c)} for c in changed],
        "fields": fields,
    }
    count = len(changed)
    message = (
        f"{count} of them changed since you looked: nothing was done."
        if count > 1
        else ("It changed since you looked: nothing was done.")
    )
    if not request.htmx:
        said = "; ".join(
            f"{item['conversation']}: {item['change'].text} {item['change'].ago}"
            for item in conflict["changes"]
            if item["change"]
        )
        flash.error(request, f"{message} {said}")
        return redirect(_back_to_list(request))
    response = render(
        request, "inbox/index.html#action-status", {"message": message, "ok": False, "conflict": conflict}
    )
    response.status_code = 409
    return response


def _sentence(error: Exception) -> str:
    text = str(error)
    return f"{text[:1].upper()}{text[1:]}."


def _bulk_reply(request, message: str, *, ok: bool):
    if not request.htmx:
        (flash.success if ok else flash.error)(request, message)
        return redirect(_back_to_list(request))
    response = render(request, "inbox/index.html#action-status", {"message": message, "ok": ok})
    if ok:
        # inbox.js clears the selection on inbox-acted; the list reloads at once on it.
        response["HX-Trigger"] = "inbox-acted"
    else:
        response.status_code = 400
    return response


def _back_to_list(request) -> str:
    """The list the agent posted from: the Referer (which follows the URLs htmx pushes), if it is this
    site's inbox; else the inbox."""
    inbox = reverse("inbox:index")
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc and referer.netloc != request.get_host():
        return inbox
    try:
        back = referer.path == inbox or resolve(referer.path).view_name == "inbox:conversation"
    except Resolver404:
        back = False
    return urlunsplit(("", "", referer.path, referer.query, "")) if back else inbox


@inbox_required
@require_POST
def saved_view_create(request):
    membership = current_membership(request)
    try:
        saved = saved_view_save(
            membership=membership,
            name=request.POST.get("name", ""),
            querystring=request.POST.get("query", ""),
            shared=request.POST.get("shared") == "on",
        )
    except SavedViewError as error:
        flash.error(request, _sentence(error))
        return redirect(_back_to_list(request))
    flash.success(request, f"Saved view “{saved.name}”.")
    return redirect(f"{reverse('inbox:index')}?{saved.query}" if saved.query else reverse("inbox:index"))


@inbox_required
@require_POST
def saved_view_remove(request, pk: int):
    membership = current_membership(request)
    saved = get_visible_or_404(saved_views(membership=membership), membership, pk=pk)
    try:
        saved_view_delete(membership=membership, saved_view=saved)
    except SavedViewError as error:
        flash.error(request, _sentence(error))
    else:
        flash.success(request, f"Removed the saved view “{saved.name}”.")
    return redirect(_back_to_list(request))


# The conversation page offers its organisation's tags by name, as many as this.
TAG_CHOICES = 500


def _page_conversation(membership, pk: int) -> Conversation:
    return get_visible_or_404(
        Conversation.objects.select_related("brand", "channel", "customer", "assignee"), membership, pk=pk
    )


def _controls_context(membership, conversation: Conversation) -> dict:
    """The conversation page's status, assignment, snooze, tags and SLA (its `controls` partial)."""
    return {
        "conversation": conversation,
        "now": timezone.now(),
        "active_statuses": Conversation.ACTIVE_STATUSES,
        # Snoozing asks until when: it has a form of its own.
        "action_statuses": [
            (value, label)
            for value, label in Conversation.Status.choices
            if value != Conversation.Status.SNOOZED
        ],
        "agents": conversation_members(conversation=conversation),
        "conversation_tags": conversation.tags.order_by("name"),
        # Suggestions for the tag field; any other name makes a new tag.
        "tag_choices": scoped(Tag, membership).order_by("name").values_list("name", flat=True)[:TAG_CHOICES],
    }


def _profile_context(membership, conversation: Conversation) -> dict:
    """The 360° profile panel beside the thread (its `profile` partial)."""
    return {
        "conversation": conversation,
        "profile": customer_profile(conversation=conversation, membership=membership),
    }


def _note_form_context(membership, conversation: Conversation) -> dict:
    return {"conversation": conversation}


# The page's regions that its forms replace (htmx): partials of inbox/conversation.html, and what each shows.
_PAGE_REGIONS = {"controls": _controls_context, "profile": _profile_context, "note-form": _note_form_context}


def _thread_context(request, membership, conversation: Conversation) -> dict:
    """The thread: this conversation, or (?thread=customer) every conversation of the customer with
    this brand, interleaved."""
    thread_mode = request.GET.get("thread") if request.GET.get("thread") in THREAD_MODES else "conversation"
    if thread_mode == "customer":
        thread = customer_brand_thread(conversation=conversation, membership=membership)
    else:
        thread = conversation_thread(conversation=conversation)
    return {
        "conversation": conversation,
        "thread": thread,
        "thread_mode": thread_mode,
        "labels": label_choices(organization_id=membership.organization_id),
    }


@inbox_required
def conversation_detail(request, pk: int):
    """The workspace with this conversation open: the list, the thread with its controls, note form and
    composer, and the profile panel; live presence and typing through its WebSocket (ConversationConsumer).
    Opening it from the list (htmx, into #conversation-pane) gets the conversation's panes alone; the list
    beside it refreshes from this address too (#inbox-results)."""
    membership = current_membership(request)
    if request.htmx and request.htmx.target == RESULTS_ID:
        return index(request)
    conversation = _page_conversation(membership, pk)
    if request.htmx and request.htmx.target == CONTROLS_ID:
        # A colleague changed it (a live event): the controls as they are now, at the version now shown.
        controls = _controls_context(membership, conversation)
        return render(request, "inbox/conversation.html#controls", controls)
    # Opening the conversation is reading what the agent was notified of about it.
    notifications_mark_read(
        notifications=notification_list(membership=membership).filter(conversation=conversation)
    )
    query = _list_query(membership, request)
    context = {
        "section": "inbox",
        **_controls_context(membership, conversation),
        **_profile_context(membership, conversation),
        **_thread_context(request, membership, conversation),
        "thread_modes": THREAD_MODES,
        "activity": conversation_activity(conversation=conversation),
        "list_url": _list_url(query),
    }
    if request.htmx and request.htmx.target == CONVERSATION_PANE_ID:
        return render(
            request,
            "inbox/conversation.html",
            {**context, "list_query": query.querystring(), "swapped": True},
        )
    return render(
        request,
        "inbox/index.html",
        {**_list_context(request, membership, query), **_list_page_context(membership, query), **context},
    )


@inbox_required
def conversation_thread_partial(request, pk: int):
    """The thread alone, for the open page to show a colleague's new note. Unlike opening the page, it
    marks nothing read: a mention in that note stays unread until the agent looks at it."""
    membership = current_membership(request)
    conversation = _page_conversation(membership, pk)
    return render(
        request, "inbox/conversation.html#thread", _thread_context(request, membership, conversation)
    )


def _page_reply(request, membership, pk: int, region: str, message: str, *, ok: bool, **extra):
    """After a form of the conversation page: htmx gets its region again, saying how it went (HTTP 400
    when it was refused); a plain form post gets the page again, with the message flashed."""
    if not request.htmx:
        (flash.success if ok else flash.error)(request, message)
        return redirect("inbox:conversation", pk=pk)
    conversation = _page_conversation(membership, pk)  # as the action left it
    context = {**_PAGE_REGIONS[region](membership, conversation), "result": {"message": message, "ok": ok}}
    response = render(request, f"inbox/conversation.html#{region}", {**context, **extra})
    if not ok:
        response.status_code = 400
    return response


@inbox_required
@require_POST
def message_correct(request, pk: int):
    """One click corrects a label: the message shows it now, and the brand's model learns it."""
    membership = current_membership(request)
    message = get_visible_or_404(Message.objects.select_related("conversation"), membership, pk=pk)
    mention = None
    if request.POST.get("mention"):
        mention = get_visible_or_404(message.mentions.all(), membership, pk=request.POST["mention"])
    try:
        label_correct(
            message=message,
            task=request.POST.get("task", ""),
            label=request.POST.get("label", ""),
            mention=mention,
            user=request.user,
        )
    except ValueError as error:
        if not request.htmx:
            flash.error(request, str(error))
            return redirect("inbox:conversation", pk=message.conversation_id)
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    if not request.htmx:
        flash.success(request, "Label corrected: the brand's model will learn from it.")
        return redirect("inbox:conversation", pk=message.conversation_id)
    message.refresh_from_db()
    return render(
        request,
        "inbox/conversation.html#classification",
        {"m": message, "labels": label_choices(organization_id=membership.organization_id)},
    )


def _posted_assignee(request, membership):
    """Who the assignment form chose: the agent, me, or None to unassign."""
    action = request.POST.get("action")
    if action == "assign_me":
        return request.user
    chosen = request.POST.get("assignee", "")
    if action == "unassign" or chosen == "none":
        return None
    if not chosen:
        raise ConversationActionError("choose who to assign it to")
    return get_visible_or_404(inbox_agents(membership=membership), membership, user_id=chosen).user


def _posted_moment(value: str):
    """A moment from a form: ISO 8601 (the page's script sends the agent's local time in UTC); without a
    time zone, the site's."""
    moment = parse_datetime(value.strip()) if value else None
    if moment is None:
        raise ConversationActionError("choose a date and time")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _posted_version(request) -> int | None:
    """The version of the conversation the agent saw when they acted (the forms' `seen`), if any."""
    return ascii_int(request.POST.get("seen", "").strip())


def _run_conversation_action(request, membership, conversation: Conversation, action: str) -> str:
    """Run one action of the conversation page through its service; returns what to tell the agent."""
    seen_version = _posted_version(request)
    if action in ("assign_me", "unassign", "assign"):
        assignee = _posted_assignee(request, membership)
        conversation_assign_to(
            conversation=conversation, assignee=assignee, actor=request.user, seen_version=seen_version
        )
        if assignee is None:
            return "Unassigned."
        return "Assigned to you." if assignee == request.user else f"Assigned to {assignee.username}."
    if action in ("snooze", Conversation.Status.SNOOZED):
        conversation_snooze(
            conversation=conversation,
            until=_posted_moment(request.POST.get("until", "")),
            actor=request.user,
            seen_version=seen_version,
        )
        return "Snoozed: it comes back to the inbox when the time comes."
    seen = None if seen_version is None else {conversation.pk: seen_version}
    if action == "tag":
        tag = conversations_bulk_tag(
            conversations=[conversation], name=request.POST.get("tag_name", ""), actor=request.user, seen=seen
        )
        return f"Tagged “{tag.name}”."
    if action == "untag":
        tag = get_visible_or_404(conversation.tags.all(), membership, pk=request.POST.get("tag"))
        conversation_untag(conversation=conversation, tag=tag, actor=request.user, seen_version=seen_version)
        return f"Removed the tag “{tag.name}”."
    if action in Conversation.Status.values:
        conversations_bulk_set_status(
            conversations=[conversation], status=action, actor=request.user, seen=seen
        )
        return f"Status: {Conversation.Status(action).label}."
    raise ConversationActionError("choose an action")


def _conflict(request, conversation: Conversation) -> dict:
    """What the agent is asked when someone changed the conversation since they looked: who did what and
    when, and a button that sends their action again, this time over what they now see."""
    taking = request.POST.get("action") == "assign_me"
    return {
        "change": conversation_last_change(conversation=conversation),
        "question": "take over?" if taking else "do it anyway?",
        "button": "Take over" if taking else "Do it anyway",
        "fields": [
            (name, value)
            for name, value in request.POST.items()
            if name not in ("csrfmiddlewaretoken", "seen")
        ],
    }


@inbox_required
@require_POST
def conversation_action(request, pk: int):
    """The conversation page's assignment, status, snooze and tag forms. Each carries the version of the
    conversation its agent saw: when someone changed it since, nothing is done and the agent is asked
    (HTTP 409)."""
    membership = current_membership(request)
    conversation = _page_conversation(membership, pk)
    try:
        message = _run_conversation_action(request, membership, conversation, request.POST.get("action", ""))
    except ConversationChanged:
        if not request.htmx:
            change = conversation_last_change(conversation=conversation)
            said = f"{change.text} {change.ago}" if change else "Someone changed this"
            flash.error(request, f"{said}: nothing was done. Look, then try again.")
            return redirect("inbox:conversation", pk=pk)
        conversation = _page_conversation(membership, pk)
        response = render(
            request,
            "inbox/conversation.html#controls",
            {**_controls_context(membership, conversation), "conflict": _conflict(request, conversation)},
        )
        response.status_code = 409
        return response
    except ConversationActionError as error:
        return _page_reply(request, membership, pk, "controls", _sentence(error), ok=False)
    return _page_reply(request, membership, pk, "controls", message, ok=True)


@inbox_required
@require_POST
def note_create(request, pk: int):
    """An internal note; its @mentions notify colleagues. htmx appends it to the thread."""
    membership = current_membership(request)
    conversation = _page_conversation(membership, pk)
    text = request.POST.get("text", "")
    try:
        note = note_add(conversation=conversation, author=request.user, text=text)
    except ConversationActionError as error:
        return _page_reply(request, membership, pk, "note-form", _sentence(error), ok=False, note_text=text)
    return _page_reply(request, membership, pk, "note-form", "Note added.", ok=True, added=note)


@inbox_required
@require_POST
def profile_suggestion_decide(request, pk: int, suggestion_pk: int):
    """Merge the conversation's customer with a suggested duplicate, or say they are not the same person."""
    membership = current_membership(request)
    conversation = _page_conversation(membership, pk)
    suggestion = get_visible_or_404(
        customer_pending_suggestions(customer=conversation.customer), membership, pk=suggestion_pk
    )
    accept = request.POST.get("decision") == "accept"
    try:
        merge_suggestion_decide(suggestion=suggestion, actor=request.user, accept=accept)
    except MergeError as error:
        return _page_reply(request, membership, pk, "profile", _sentence(error), ok=False)
    outcome = "Profiles merged." if accept else "Noted: not the same person."
    return _page_reply(request, membership, pk, "profile", outcome, ok=True)


@inbox_required
@require_POST
def profile_unmerge(request, pk: int, merge_pk: int):
    """Undo a merge into the conversation's customer: the other profile gets back what it had."""
    membership = current_membership(request)
    conversation = _page_conversation(membership, pk)
    merge = get_visible_or_404(customer_merges(customer=conversation.customer), membership, pk=merge_pk)
    try:
        source = customer_unmerge(merge=merge, actor=request.user)
    except MergeError as error:
        return _page_reply(request, membership, pk, "profile", _sentence(error), ok=False)
    return _page_reply(
        request, membership, pk, "profile", f"Unmerged: {source} is a separate profile again.", ok=True
    )
