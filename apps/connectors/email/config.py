"""An email channel's settings and credentials, read and checked in one place.

channel.settings:
    host, port, security ("ssl" | "starttls" | "none"), mailbox (default INBOX)    the IMAP server
    smtp_host, smtp_port, smtp_security                                           the SMTP server
    from_address, from_name (default: the brand's name)                           who replies
    trust_sender            true only when the server rejects forged From headers (DMARC, internal relay):
                            the sender's address is then verified evidence for identity resolution
    tls_ca_certificate      PEM of a private CA to trust instead of the system's (self-hosted servers)
    timeout, batch_size, max_message_bytes                                        limits (optional)
    idle                    default true: new mail is pushed by IMAP IDLE when the server offers it (the
                            `email_idle` process); false: the mailbox is only polled
channel.credentials: username, password (IMAP); smtp_username, smtp_password (SMTP, optional).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from ..base import PayloadRejected

SECURITY_MODES = ("ssl", "starttls", "none")
IMAP_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
SMTP_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
DEFAULT_TIMEOUT = 30.0
DEFAULT_BATCH_SIZE = 100
DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024


def setting_bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def uses_idle(settings: dict) -> bool:
    """Whether the channel wants IMAP IDLE (it gets it only where the server offers IDLE)."""
    value = settings.get("idle")
    return True if value in (None, "") else setting_bool(value)


def _security(settings: dict, key: str, default: str) -> str:
    security = str(settings.get(key) or default).strip().lower()
    if security not in SECURITY_MODES:
        raise PayloadRejected(f"setting '{key}' must be one of {', '.join(SECURITY_MODES)}, not {security!r}")
    return security


def _port(settings: dict, key: str, default: int) -> int:
    value = settings.get(key)
    if value in (None, ""):
        return default
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise PayloadRejected(f"setting '{key}' must be a port number, not {value!r}") from None
    if not 0 < port < 65536:
        raise PayloadRejected(f"setting '{key}' must be a port number, not {value!r}")
    return port


def _positive(settings: dict, key: str, default):
    value = settings.get(key)
    if value in (None, ""):
        return default
    try:
        number = type(default)(value)
    except (TypeError, ValueError):
        raise PayloadRejected(f"setting '{key}' must be a number, not {value!r}") from None
    if number <= 0:
        raise PayloadRejected(f"setting '{key}' must be positive, not {value!r}")
    return number


def tls_context(settings: dict) -> ssl.SSLContext:
    """Certificates are always verified: against the system's CAs, or the channel's own CA when it has one."""
    pem = settings.get("tls_ca_certificate") or None
    try:
        return ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError) as error:
        raise PayloadRejected(
            f"setting 'tls_ca_certificate' is not a valid PEM certificate: {error}"
        ) from None


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    security: str
    mailbox: str
    username: str
    password: str
    timeout: float
    batch_size: int
    max_message_bytes: int
    settings: dict

    @classmethod
    def from_channel(cls, channel) -> ImapConfig:
        settings = channel.settings or {}
        credentials = channel.credentials or {}
        host = str(settings.get("host") or "").strip()
        if not host:
            raise PayloadRejected("the email channel has no IMAP server: set 'host' in its settings")
        username, password = credentials.get("username") or "", credentials.get("password") or ""
        if not username or not password:
            raise PayloadRejected("the email channel has no IMAP login: set 'username' and 'password'")
        security = _security(settings, "security", "ssl")
        return cls(
            host=host,
            port=_port(settings, "port", IMAP_PORTS[security]),
            security=security,
            mailbox=str(settings.get("mailbox") or "INBOX"),
            username=str(username),
            password=str(password),
            timeout=_positive(settings, "timeout", DEFAULT_TIMEOUT),
            batch_size=_positive(settings, "batch_size", DEFAULT_BATCH_SIZE),
            max_message_bytes=_positive(settings, "max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES),
            settings=settings,
        )


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    username: str
    password: str
    from_address: str
    from_name: str
    helo_name: str
    timeout: float
    settings: dict

    @classmethod
    def from_channel(cls, channel) -> SmtpConfig:
        settings = channel.settings or {}
        credentials = channel.credentials or {}
        host = str(settings.get("smtp_host") or "").strip()
        if not host:
            raise PayloadRejected("the email channel has no SMTP server: set 'smtp_host' in its settings")
        from_address = str(settings.get("from_address") or "").strip()
        if "@" not in from_address or any(c.isspace() for c in from_address):
            raise PayloadRejected("the email channel has no valid 'from_address' to reply from")
        security = _security(settings, "smtp_security", "starttls")
        return cls(
            host=host,
            port=_port(settings, "smtp_port", SMTP_PORTS[security]),
            security=security,
            username=str(credentials.get("smtp_username") or ""),
            password=str(credentials.get("smtp_password") or ""),
            from_address=from_address,
            from_name=" ".join(str(settings.get("from_name") or channel.brand.name).split()),
            helo_name=str(settings.get("helo_name") or from_address.rpartition("@")[2]),
            timeout=_positive(settings, "timeout", DEFAULT_TIMEOUT),
            settings=settings,
        )
