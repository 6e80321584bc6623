"""Saved replies and macros in the app: their pages (list, search, folders, create, edit, delete), the
composer's `/` picker, and running macros on one conversation or many, with undo.

Who sees and changes what is selectors.shelf_usable / shelf_editable; the services check it again.
"""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import current_membership, inbox_required
from apps.accounts.tenancy import get_visible_or_404, scoped
from apps.conversations.models import Conversation
from apps.conversations.selectors import conversation_last_change
from apps.conversations.services import ConversationChanged
from apps.core.parsing import ascii_int

from .forms import MacroForm, SavedReplyForm
from .macros import MacroRefused, macro_describe, macro_run, macro_undo
from .models import Macro, MacroRun, SavedReply
from .selectors import (
    macros_for,
    saved_replies_for,
    shelf_editable,
    shelf_folders,
    shelf_search,
    shelf_usable,
)
from .services import ShelfRefused, macro_save, saved_reply_save, saved_reply_used, shelf_delete
from .variables import variable_values, variables_fill

PICKER_SHOWN = 12
SHELF_TEMPLATE = "replies/shelf.html"


def _editable_or_404(model, request, pk: int):
    membership = current_membership(request)
    item = get_visible_or_404(shelf_usable(model, membership=membership), membership, pk=pk)
    if not shelf_editable(item, membership=membership):
        raise Http404("not yours to change")
    return item


def _list(request, model):
    membership = current_membership(request)
    usable = shelf_usable(model, membership=membership)
    query, folder, scope = (request.GET.get(name, "").strip() for name in ("q", "folder", "scope"))
    items = list(shelf_search(usable, query=query, folder=folder, scope=scope)[:200])
    for item in items:
        item.editable = shelf_editable(item, membership=membership)
        if model is Macro:
            item.described = macro_describe(item)
    context = {
        "section": "replies",
        "kind": "macros" if model is Macro else "saved",
        "items": items,
        "folders": shelf_folders(usable),
        "query": query,
        "folder": folder,
        "scope": scope,
        "scopes": model._meta.get_field("scope").choices,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, f"{SHELF_TEMPLATE}#results", context)
    return render(request, SHELF_TEMPLATE, context)


def _form_page(request, model, item=None):
    membership = current_membership(request)
    form_class = MacroForm if model is Macro else SavedReplyForm
    form = form_class(request.POST or None, instance=item, membership=membership)
    error = ""
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.organization_id = membership.organization_id
        try:
            if model is Macro:
                saved.actions = form.actions()
                macro_save(macro=saved, membership=membership)
            else:
                saved_reply_save(saved_reply=saved, actor=request.user, membership=membership)
        except ShelfRefused as refused:
            error = str(refused)
        else:
            flash.success(request, f"Saved “{saved}”.")
            return redirect("replies:macros" if model is Macro else "replies:saved_replies")
    context = {
        "section": "replies",
        "kind": "macros" if model is Macro else "saved",
        "form": form,
        "item": item,
        "error": error,
        "folders": shelf_folders(shelf_usable(model, membership=membership)),
    }
    return render(request, "replies/shelf_form.html", context, status=400 if error else 200)


def _delete(request, model, pk: int):
    item = _editable_or_404(model, request, pk)
    try:
        shelf_delete(item=item, membership=current_membership(request))
    except ShelfRefused as refused:
        flash.error(request, str(refused))
    else:
        flash.success(request, f"Deleted “{item}”.")
    return redirect("replies:macros" if model is Macro else "replies:saved_replies")


@inbox_required
def saved_replies(request):
    return _list(request, SavedReply)


@inbox_required
def saved_reply_new(request):
    return _form_page(request, SavedReply)


@inbox_required
def saved_reply_edit(request, pk: int):
    return _form_page(request, SavedReply, _editable_or_404(SavedReply, request, pk))


@inbox_required
@require_POST
def saved_reply_delete(request, pk: int):
    return _delete(request, SavedReply, pk)


@inbox_required
def macros(request):
    return _list(request, Macro)


@inbox_required
def macro_new(request):
    return _form_page(request, Macro)


@inbox_required
def macro_edit(request, pk: int):
    return _form_page(request, Macro, _editable_or_404(Macro, request, pk))


@inbox_required
@require_POST
def macro_delete(request, pk: int):
    return _delete(request, Macro, pk)


# ----------------------------------------------------------------------------------------------- composer


def _conversation(request, pk: int) -> Conversation:
    return get_visible_or_404(
        Conversation.objects.select_related("brand", "customer", "organization"),
        current_membership(request),
        pk=pk,
    )


@inbox_required
def picker(request, pk: int):
    """The `/` picker: the saved replies usable here matching what follows the slash, most used first,
    each with its preview filled for this conversation."""
    conversation = _conversation(request, pk)
    membership = current_membership(request)
    usable = saved_replies_for(conversation=conversation, agent=request.user, membership=membership)
    found = shelf_search(usable, query=request.GET.get("q", "")).order_by("-usage_count", "folder", "title")
    values = variable_values(customer=conversation.customer, brand=conversation.brand, agent=request.user)
    replies = list(found[:PICKER_SHOWN])
    for reply in replies:
        reply.preview = variables_fill(reply.body, values)
    context = {"conversation": conversation, "replies": replies, "query": request.GET.get("q", "")}
    return render(request, "replies/composer_shelf.html#picker", context)


def _notes(filled) -> list[str]:
    notes = [f"CXM does not know {{{{{name}}}}}: replace it yourself." for name in filled.unknown]
    notes += [
        f"No {name.split('.')[-1].replace('_', ' ')} is known for this customer: replace {{{{{name}}}}}."
        for name in filled.missing
    ]
    return notes


@inbox_required
@require_POST
def saved_reply_use(request, pk: int, saved_reply: int):
    """The saved reply filled for this conversation, for the composer to insert (counted as one use)."""
    conversation = _conversation(request, pk)
    membership = current_membership(request)
    reply = get_visible_or_404(
        saved_replies_for(conversation=conversation, agent=request.user, membership=membership),
        membership,
        pk=saved_reply,
    )
    values = variable_values(customer=conversation.customer, brand=conversation.brand, agent=request.user)
    filled = variables_fill(reply.body, values)
    saved_reply_used(saved_reply=reply)
    return JsonResponse({"text": filled.text, "notes": _notes(filled), "title": reply.title})


def _run_result(request, outcome=None, *, error: str = "", undone: list[str] | None = None, status=200):
    context = {"outcome": outcome, "error": error, "undone": undone}
    response = render(request, "replies/composer_shelf.html#macro-result", context, status=status)
    if outcome is not None or undone is not None:
        # The inbox list refreshes on it (inbox.js); the conversation page reloads its parts on it.
        response["HX-Trigger"] = "inbox-acted"
    return response


def _changed_result(request, changed: ConversationChanged):
    """Someone changed conversations since the agent looked: nothing was run. Say who did what and when
    (HTTP 409, as the inbox's own actions do); the agent looks and runs the macro again."""
    said = []
    for conversation in changed.changed:
        change = conversation_last_change(conversation=conversation)
        said.append(
            f"“{conversation}”: {change.text} {change.ago}." if change else f"“{conversation}” changed."
        )
    error = " ".join(
        ["Changed since you looked: nothing was done.", *said, "Look, then run the macro again."]
    )
    return _run_result(request, error=error, status=409)


def _posted_seen(request, conversations: list[Conversation], *, name=None) -> dict[int, int]:
    """The versions the agent saw: the bulk form's `seen-<id>` per row, or the conversation's `seen`."""
    versions = {c.pk: ascii_int(request.POST.get(name or f"seen-{c.pk}", "").strip()) for c in conversations}
    return {pk: version for pk, version in versions.items() if version is not None}


def _posted_macro(request, membership, conversation=None) -> Macro:
    chosen = request.POST.get("macro", "")
    if not chosen.isdigit():
        raise MacroRefused("Choose a macro.")
    macro = macros_for(membership=membership, conversation=conversation).filter(pk=chosen).first()
    if macro is None:
        raise MacroRefused("Choose a macro.")
    return macro


@inbox_required
@require_POST
def macro_run_one(request, pk: int):
    """Run a macro on the open conversation; a saved reply it inserts comes back for the composer."""
    conversation = _conversation(request, pk)
    membership = current_membership(request)
    try:
        macro = _posted_macro(request, membership, conversation)
        seen = _posted_seen(request, [conversation], name="seen")
        outcome = macro_run(macro=macro, conversations=[conversation], actor=request.user, seen=seen)
    except ConversationChanged as changed:
        return _changed_result(request, changed)
    except MacroRefused as refused:
        return _run_result(request, error=str(refused), status=400)
    return _run_result(request, outcome)


@inbox_required
@require_POST
def macro_run_bulk(request):
    """Run a macro on the conversations ticked in the inbox list."""
    membership = current_membership(request)
    try:
        ids = {int(value) for value in request.POST.getlist("conversation")}
    except ValueError:
        return HttpResponseBadRequest("not a conversation")
    conversations = list(scoped(Conversation, membership).filter(pk__in=ids))
    if len(conversations) != len(ids):
        raise Http404("not found")
    try:
        macro = _posted_macro(request, membership)
        if not conversations:
            raise MacroRefused("Select at least one conversation.")
        if macro.brand_id and any(c.brand_id != macro.brand_id for c in conversations):
            raise MacroRefused(f"“{macro}” is for {macro.brand} only: select only its conversations.")
        seen = _posted_seen(request, conversations)
        outcome = macro_run(macro=macro, conversations=conversations, actor=request.user, seen=seen)
    except ConversationChanged as changed:
        return _changed_result(request, changed)
    except MacroRefused as refused:
        return _run_result(request, error=str(refused), status=400)
    return _run_result(request, outcome)


@inbox_required
def bulk_macros(request):
    """The macro menu of the inbox list's bulk bar (loaded into it with hx-get)."""
    membership = current_membership(request)
    context = {"macros": macros_for(membership=membership)}
    return render(request, "replies/composer_shelf.html#bulk-menu", context)


@inbox_required
@require_POST
def macro_run_undo(request, pk: int):
    """Undo a macro run: the one who ran it, or an admin."""
    membership = current_membership(request)
    runs = scoped(MacroRun, membership)
    if not membership.is_admin:
        runs = runs.filter(actor=request.user)
    run = get_visible_or_404(runs, membership, pk=pk)
    try:
        left = macro_undo(run=run, actor=request.user)
    except MacroRefused as refused:
        return _run_result(request, error=str(refused), status=409)
    return _run_result(request, undone=left)
