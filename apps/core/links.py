"""Links to the outside world that came from outside (a platform's profile URL, a feed's link).

Such a URL is data from an untrusted sender: written into an `href` as it came, `javascript:…` or
`data:…` would run in the agent's session. Only absolute http(s) URLs with a host ever become links.
"""

from urllib.parse import urlsplit

MAX_EXTERNAL_URL_CHARS = 500


def external_url(value) -> str:
    """`value` when it is an absolute http(s) URL with a host, else ""."""
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if not value or len(value) > MAX_EXTERNAL_URL_CHARS or any(ord(c) < 0x21 for c in value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:  # an unbalanced IPv6 bracket, for one
        return ""
    return value if parts.scheme.lower() in {"http", "https"} and parts.hostname else ""
