"""The forms of the saved replies and macros pages: choices limited to the member's organisation, brands and
scopes (selectors.shelf_scopes); the services check the same rule again on save."""

from __future__ import annotations

from django import forms

from apps.accounts.models import Brand, Team
from apps.accounts.tenancy import scoped

from .macros import PRIORITIES, STATUSES
from .models import Macro, SavedReply
from .selectors import shelf_scopes, shelf_usable


class _ShelfForm(forms.ModelForm):
    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership
        # What the model's clean() reads: a personal item is its maker's (cleared for wider scopes).
        self.instance.organization_id = self.instance.organization_id or membership.organization_id
        if self.instance.owner_id is None:
            self.instance.owner = membership.user
        self.fields["scope"].choices = shelf_scopes(membership=membership)
        self.fields["brand"].queryset = scoped(Brand, membership)
        if membership.is_admin:
            self.fields["team"].queryset = scoped(Team, membership)
        else:
            self.fields["team"].queryset = scoped(Team, membership).filter(members=membership.user)
        self.fields["folder"].widget.attrs["list"] = "shelf-folders"


class SavedReplyForm(_ShelfForm):
    class Meta:
        model = SavedReply
        fields = ["title", "body", "folder", "scope", "team", "brand", "language", "intent"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6, "dir": "auto"})}


ASSIGN_CHOICES = [("", "—"), ("me", "The agent running it"), ("nobody", "Nobody (unassign)")]


class MacroForm(_ShelfForm):
    """A macro's actions as one optional field each, run in this order: insert a saved reply, tag, assign,
    set priority, set status or snooze, add a note."""

    saved_reply = forms.ModelChoiceField(queryset=SavedReply.objects.none(), required=False)
    tags = forms.CharField(required=False, help_text="Comma-separated.", max_length=300)
    assign = forms.ChoiceField(choices=ASSIGN_CHOICES, required=False)
    priority = forms.ChoiceField(
        choices=[("", "—"), *[(name, f"{name} ({value:g})") for name, value in PRIORITIES.items()]],
        required=False,
    )
    status = forms.ChoiceField(choices=[("", "—"), *[(s.value, s.label) for s in STATUSES]], required=False)
    snooze_hours = forms.IntegerField(
        required=False, min_value=1, max_value=24 * 30, label="Snooze for (hours)"
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}))

    class Meta:
        model = Macro
        fields = ["name", "folder", "scope", "team", "brand"]

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, membership=membership, **kwargs)
        self.fields["saved_reply"].queryset = shelf_usable(SavedReply, membership=membership)
        if self.instance.pk and not self.is_bound:
            self._initial_actions(self.instance.actions)

    def _initial_actions(self, actions: list[dict]) -> None:
        tags = []
        for action in actions:
            kind = action["type"]
            if kind == "saved_reply":
                self.initial["saved_reply"] = action["saved_reply"]
            elif kind == "tag":
                tags.append(action["tag"])
            elif kind == "assign":
                self.initial["assign"] = action["assignee"] if action["assignee"] in ("me", "nobody") else ""
            elif kind == "priority":
                named = {value: name for name, value in PRIORITIES.items()}
                self.initial["priority"] = named.get(action["priority"], "")
            elif kind == "status":
                self.initial["status"] = action["status"]
            elif kind == "snooze":
                self.initial["snooze_hours"] = action["hours"]
            elif kind == "note":
                self.initial["note"] = action["text"]
        self.initial["tags"] = ", ".join(tags)

    def actions(self) -> list[dict]:
        data = self.cleaned_data
        actions: list[dict] = []
        if data.get("saved_reply"):
            actions.append({"type": "saved_reply", "saved_reply": data["saved_reply"].pk})
        for tag in (data.get("tags") or "").split(","):
            if tag.strip():
                actions.append({"type": "tag", "tag": tag.strip()})
        if data.get("assign"):
            actions.append({"type": "assign", "assignee": data["assign"]})
        if data.get("priority"):
            actions.append({"type": "priority", "priority": data["priority"]})
        if data.get("status"):
            actions.append({"type": "status", "status": data["status"]})
        if data.get("snooze_hours"):
            actions.append({"type": "snooze", "hours": data["snooze_hours"]})
        if (data.get("note") or "").strip():
            actions.append({"type": "note", "text": data["note"]})
        return actions
