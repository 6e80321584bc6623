from django import template

from apps.core.links import external_url as _external_url

register = template.Library()


@register.filter
def external_url(value) -> str:
    """`{{ identity.profile_url|external_url }}`: the URL if it may be a link (http or https), else ""."""
    return _external_url(value)
