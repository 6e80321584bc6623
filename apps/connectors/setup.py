"""What a connector asks for when an admin sets a channel up: its settings, declared once, beside the code
that reads them.

A connector lists `Setting`s in `setup_fields`; the channel set-up page (apps/connectors/forms.py) builds
its form from them, so a new connector kind only declares its fields. Each setting is stored in
`channel.settings`, or in `channel.credentials` (encrypted at rest) when `credential` is true. A `secret`
one is a credential that is never shown again: its input is a password box that stays empty, and leaving
it empty on an edit keeps the stored value. A dotted key ("widget.title") is stored one level down.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT = "text"
LONG_TEXT = "long_text"  # several lines (a PEM certificate)
URL = "url"
EMAIL = "email"
NUMBER = "number"
FLAG = "flag"
CHOICE = "choice"
LINES = "lines"  # a list, one item per line


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    type: str = TEXT
    help: str = ""
    required: bool = False
    secret: bool = False  # a credential never shown back (tokens, passwords, app secrets)
    credential: bool = False  # stored encrypted with the credentials, though it may be shown (ids)
    # A blank secret is filled with a random one when the channel is saved (secrets CXM hands to the
    # platform itself, such as Telegram's webhook secret, or shows in its webhook guide).
    generated: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    default: object = None
    min_value: int | None = None
    max_value: int | None = None
    # Only for people who point a channel elsewhere than the platform (a proxy, a test server).
    advanced: bool = False

    @property
    def stored_in_credentials(self) -> bool:
        return self.secret or self.credential

    def read(self, channel) -> object:
        """The stored value (None when absent)."""
        store = (channel.credentials if self.stored_in_credentials else channel.settings) or {}
        head, _, tail = self.key.partition(".")
        value = store.get(head)
        if tail:
            value = value.get(tail) if isinstance(value, dict) else None
        return value

    def write(self, store: dict, value) -> None:
        """Set (or, for None, remove) the value in a settings or credentials dict."""
        head, _, tail = self.key.partition(".")
        if tail:
            nested = dict(store.get(head) or {}) if isinstance(store.get(head), dict) else {}
            if value is None:
                nested.pop(tail, None)
            else:
                nested[tail] = value
            if nested:
                store[head] = nested
            else:
                store.pop(head, None)
        elif value is None:
            store.pop(head, None)
        else:
            store[head] = value


@dataclass(frozen=True)
class WebhookGuide:
    """How the admin connects the platform to the channel's webhook URL: the steps in the platform's own
    console, and whether CXM can register the URL itself (`Connector.register_webhook`)."""

    steps: tuple[str, ...]
    # Credentials the admin copies into the platform's console (Meta's verify token), shown on the guide.
    shown_credentials: tuple[str, ...] = ()
    registers_itself: bool = False


def api_base(key: str, platform_url: str, what: str = "API") -> Setting:
    """The base URL a connector calls: the platform's by default, another for a proxy or a test server."""
    return Setting(
        key,
        f"{what} base URL",
        URL,
        help=f"Leave empty for {platform_url}.",
        advanced=True,
    )
