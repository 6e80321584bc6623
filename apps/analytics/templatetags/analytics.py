from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Seconds as the two largest units: 45s, 12m 5s, 3h 20m, 2d 4h; "–" when there is none."""
    if seconds is None:
        return "–"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{value}{unit}" for value, unit in parts[:2])
