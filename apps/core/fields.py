from django.db import models

from .crypto import decrypt_json, encrypt_json


class EncryptedJSONField(models.TextField):
    """A dict stored encrypted (Fernet); readable only with the configured keys."""

    description = "Encrypted JSON object"

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return {}
        return decrypt_json(value)

    def to_python(self, value):
        if isinstance(value, dict) or value is None:
            return value or {}
        return decrypt_json(value)

    def get_prep_value(self, value):
        return encrypt_json(value or {})

    def value_to_string(self, obj):
        # Serialisation (dumpdata, exports) carries the ciphertext, never the secret.
        return self.get_prep_value(self.value_from_object(obj))
