"""How CXM signs what it sends to webhook endpoints, and how a receiver checks it (the scheme of Stripe's).

Every request carries

    X-CXM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw request body>" keyed with the secret>

A receiver recomputes the HMAC over the raw body it received (before parsing the JSON), compares it in
constant time with each v1 value (during a secret rotation there may be several), and refuses a timestamp
older than its tolerance (five minutes by default), so that a captured request cannot be replayed later.
`X-CXM-Event-Id` (also "id" in the body) is the same on every retry of one delivery: receivers deduplicate
on it. `verify_signature()` below is the reference implementation for receivers written in Python.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from apps.core.parsing import ascii_int

SIGNATURE_HEADER = "X-CXM-Signature"
EVENT_ID_HEADER = "X-CXM-Event-Id"
EVENT_HEADER = "X-CXM-Event"
TIMESTAMP_HEADER = "X-CXM-Timestamp"
DEFAULT_TOLERANCE = 300


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The X-CXM-Signature value for `body` sent at `timestamp` (now when not given)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, tolerance: int = DEFAULT_TOLERANCE, now: float | None = None
) -> bool:
    """True when `header` signs `body` with `secret`, timestamped within `tolerance` seconds of now."""
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and ascii_int(value) is not None:
            timestamp = ascii_int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, signature) for signature in signatures)
