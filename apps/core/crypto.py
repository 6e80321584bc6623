"""Encryption at rest for channel credentials (Fernet, with key rotation through MultiFernet)."""

import base64
import hashlib
import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.CXM_ENCRYPTION_KEYS)
    if not keys:
        # Without a configured key, derive one from SECRET_KEY so that a fresh install just works.
        keys = [
            base64.urlsafe_b64encode(
                hashlib.sha256(f"cxm-credentials:{settings.SECRET_KEY}".encode()).digest()
            )
        ]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_json(value: dict) -> str:
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict:
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as error:
        raise ValueError("credentials cannot be decrypted with the configured CXM_ENCRYPTION_KEYS") from error


def mask_secret(value: str) -> str:
    """What the UI shows of a stored secret: never more than its last four characters."""
    value = str(value)
    return "••••" + value[-4:] if len(value) > 8 else "••••"
