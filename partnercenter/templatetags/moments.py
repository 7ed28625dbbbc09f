"""Moments as people read them: in the user's time zone (``TimeZoneMiddleware`` activates it),
with the UTC time on hover and machine-readable in ``datetime``."""
from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

register = template.Library()


@register.filter
def moment(value, fmt="Y-m-d H:i"):
    """``{{ when|moment }}`` → ``<time datetime="…Z" title="… UTC">local time</time>``."""
    if not isinstance(value, datetime):
        return value if value is not None else ""
    utc = value.astimezone(UTC) if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    local = timezone.localtime(utc)
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time>',
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        utc.strftime("%Y-%m-%d %H:%M"),
        date_format(local, fmt),
    )
