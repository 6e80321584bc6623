"""Numbers in text that came from outside: a query parameter, a form field, a header, a payload.

`str.isdigit()` is also true of "²" and "①", which `int()` refuses (a 500 where a 4xx belonged), and
`int()` reads "٣" and " 3 " and "3_000"; ids and timestamps are plain ASCII digits, and fit a bigint.
"""

MAX_DIGITS = 18  # every 18-digit number fits PostgreSQL's bigint


def ascii_int(value, *, max_digits: int = MAX_DIGITS) -> int | None:
    """The non-negative integer `value` spells in ASCII digits (surrounding spaces allowed), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10**max_digits else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > max_digits or not (value.isascii() and value.isdigit()):
        return None
    return int(value)
