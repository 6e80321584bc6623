"""Visitors of the live-chat widget: their ids, their Channels group, and the brand-signed visitor token.

Visitor token (for a visitor logged in on the brand's own site), produced by the brand's server:

    token     = payload + "." + signature
    payload   = base64url, without "=" padding, of the UTF-8 bytes of a JSON object:
                {"user_id": "42", "email": "ana@example.com", "name": "Ana", "exp": 1767225600}
    signature = lowercase hex of HMAC-SHA256(key = UTF-8 bytes of the channel's identity_secret,
                                             message = the ASCII bytes of `payload` exactly as sent)

`user_id` (string or integer) and `exp` (Unix time in seconds, UTC) are required; `email` and `name` are
optional. The signature covers the encoded payload as sent, so key order and spacing of the JSON do not
matter. See README.md for examples in several languages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass

from django.core import signing

# A visitor id is 128 random bits, as 32 lowercase hex digits (the widget makes it with crypto).
VISITOR_ID = re.compile(r"^[0-9a-f]{32}$")
# The widget's own id of each message it sends: a redelivery of the same id is stored once.
CLIENT_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_TOKEN_CHARS = 4096
IDENTITY_SALT = "cxm.livechat.identity"


def visitor_id_new() -> str:
    return secrets.token_hex(16)


def visitor_id_valid(value) -> bool:
    return isinstance(value, str) and bool(VISITOR_ID.match(value))


def visitor_group(channel_id: int, visitor_id: str) -> str:
    """The Channels group of one visitor on one channel (every open tab of theirs joins it)."""
    digest = hashlib.sha256(f"{channel_id}:{visitor_id}".encode()).hexdigest()[:40]
    return f"livechat-{channel_id}-{digest}"


class VisitorTokenInvalid(ValueError):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class VisitorIdentity:
    user_id: str
    email: str = ""
    name: str = ""


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def visitor_token_sign(secret: str, claims: dict) -> str:
    """What the brand's site does (here for tests, the demo page and as a reference implementation)."""
    payload = _b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def visitor_token_verify(secret: str, token, *, now: float | None = None) -> VisitorIdentity:
    """The identity a token proves; VisitorTokenInvalid(code, detail) when it proves nothing."""
    if not secret:
        raise VisitorTokenInvalid("visitor_token_unsupported", "this channel has no identity secret set")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise VisitorTokenInvalid("visitor_token_invalid", "the visitor token is malformed")
    payload, signature = token.split(".")
    if not re.match(r"^[A-Za-z0-9_-]+$", payload) or not re.match(r"^[0-9a-fA-F]{64}$", signature):
        raise VisitorTokenInvalid("visitor_token_invalid", "the visitor token is malformed")
    expected = hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise VisitorTokenInvalid("visitor_token_invalid", "the visitor token's signature does not match")
    try:
        claims = json.loads(_b64url_decode(payload).decode("utf-8"))
    except (binascii.Error, ValueError):
        raise VisitorTokenInvalid(
            "visitor_token_invalid", "the visitor token's payload is not JSON"
        ) from None
    if not isinstance(claims, dict):
        raise VisitorTokenInvalid("visitor_token_invalid", "the visitor token's payload is not an object")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise VisitorTokenInvalid("visitor_token_invalid", "the visitor token has no numeric 'exp'")
    if exp < (time.time() if now is None else now):
        raise VisitorTokenInvalid("visitor_token_expired", "the visitor token has expired")
    user_id = claims.get("user_id")
    if isinstance(user_id, bool) or not isinstance(user_id, str | int) or str(user_id).strip() == "":
        raise VisitorTokenInvalid("visitor_token_invalid", "the visitor token has no 'user_id'")
    email, name = claims.get("email") or "", claims.get("name") or ""
    if not isinstance(email, str) or not isinstance(name, str):
        raise VisitorTokenInvalid("visitor_token_invalid", "'email' and 'name' must be strings")
    email = email.strip()
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        raise VisitorTokenInvalid("visitor_token_invalid", "the visitor token's 'email' is not an address")
    return VisitorIdentity(user_id=str(user_id).strip()[:255], email=email[:254], name=name.strip()[:255])


def identity_seal(visitor_id: str, identity: VisitorIdentity) -> str:
    """The verified identity as stored in a payload, sealed with the server's key for this visitor only.

    The token itself may expire before a worker parses the payload (or a replay); the seal says that the
    consumer verified it when the message came in, and cannot be moved to another visitor's payload.
    """
    data = {
        "visitor": visitor_id,
        "user_id": identity.user_id,
        "email": identity.email,
        "name": identity.name,
    }
    return signing.dumps(data, salt=IDENTITY_SALT, compress=False)


def identity_unseal(visitor_id: str, sealed) -> VisitorIdentity | None:
    if not isinstance(sealed, str) or not sealed:
        return None
    try:
        data = signing.loads(sealed, salt=IDENTITY_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("visitor") != visitor_id or not data.get("user_id"):
        return None
    return VisitorIdentity(
        user_id=str(data["user_id"]), email=str(data.get("email") or ""), name=str(data.get("name") or "")
    )
