"""The channel set-up form, built from the settings the channel's connector declares (setup.py)."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from django import forms

from apps.accounts.models import Brand
from apps.accounts.tenancy import scoped
from apps.core.crypto import mask_secret
from apps.core.outbound import DestinationRefused, resolve_public

from .base import Connector
from .setup import CHOICE, EMAIL, FLAG, LINES, LONG_TEXT, NUMBER, URL, Setting


def field_name(setting: Setting) -> str:
    return "setting_" + setting.key.replace(".", "__")


class ChannelSetupForm(forms.Form):
    """Name and brand (when the channel is new), then one field per declared setting.

    `cleaned_values()` gives {Setting: value} (None removes the setting); a stored secret left empty is
    left out, and so stays."""

    name = forms.CharField(
        max_length=200, help_text="How the channel is called in CXM, e.g. “Support inbox”."
    )

    def __init__(self, *args, connector: Connector, membership, channel=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.connector, self.channel = connector, channel
        if channel is None:
            brands = scoped(Brand, membership).order_by("name")
            self.fields["brand"] = forms.ModelChoiceField(
                queryset=brands, empty_label=None, help_text="The brand this channel listens and answers for."
            )
        else:
            self.fields["name"].initial = channel.name
        for setting in connector.setup_fields:
            self.fields[field_name(setting)] = self._field(setting)

    def _field(self, setting: Setting) -> forms.Field:
        stored = setting.read(self.channel) if self.channel is not None else None
        initial = stored if stored is not None else setting.default
        # A generated value is made when left empty; a stored secret stays when left empty.
        required = setting.required and not setting.generated and not (setting.secret and stored)
        common = {"label": setting.label, "help_text": setting.help, "required": required}
        if setting.secret:
            help_text = setting.help
            if stored:
                help_text = f"Stored ({mask_secret(stored)}); leave empty to keep it. {setting.help}".strip()
            return forms.CharField(
                **{**common, "help_text": help_text},
                strip=True,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
            )
        if setting.type == FLAG:
            return forms.BooleanField(**{**common, "required": False}, initial=bool(initial))
        if setting.type == NUMBER:
            return forms.IntegerField(
                **common, initial=initial, min_value=setting.min_value, max_value=setting.max_value
            )
        if setting.type == CHOICE:
            return forms.ChoiceField(
                **{**common, "required": True},
                choices=setting.choices,
                initial=initial or setting.choices[0][0],
            )
        if setting.type == URL:
            return forms.URLField(**common, initial=initial, assume_scheme="https")
        if setting.type == EMAIL:
            return forms.EmailField(**common, initial=initial)
        if setting.type == LINES:
            lines = "\n".join(str(item) for item in initial) if isinstance(initial, list) else ""
            return forms.CharField(**common, initial=lines, widget=forms.Textarea(attrs={"rows": 3}))
        if setting.type == LONG_TEXT:
            return forms.CharField(**common, initial=initial, widget=forms.Textarea(attrs={"rows": 4}))
        return forms.CharField(**common, initial=initial)

    def setting_fields(self):
        """(bound field, advanced) for the template, in the declared order."""
        return [(self[field_name(setting)], setting.advanced) for setting in self.connector.setup_fields]

    def clean(self):
        cleaned = super().clean()
        for setting in self.connector.setup_fields:
            name = field_name(setting)
            value = cleaned.get(name)
            if setting.type == URL and value:
                host = urlsplit(value).hostname or ""
                try:
                    resolve_public(host, urlsplit(value).port or 443)
                except DestinationRefused as refusal:
                    self.add_error(name, f"{refusal}: CXM only connects to addresses on the internet.")
            if setting.type == LINES and isinstance(value, str):
                cleaned[name] = [line.strip() for line in value.splitlines() if line.strip()]
                if setting.required and not cleaned[name]:
                    self.add_error(name, "Give at least one, one a line.")
        return cleaned

    def cleaned_values(self) -> dict[Setting, object]:
        values: dict[Setting, object] = {}
        for setting in self.connector.setup_fields:
            value = self.cleaned_data.get(field_name(setting))
            stored = setting.read(self.channel) if self.channel is not None else None
            if setting.type == FLAG:
                values[setting] = bool(value)
            elif value in (None, "", []):
                if stored and (setting.generated or setting.secret):
                    continue
                if setting.generated:
                    values[setting] = secrets.token_urlsafe(24)
                else:
                    values[setting] = None
            else:
                values[setting] = value
        return values
