"""Moments as people read them: in the user's time zone (``TimeZoneMiddleware`` activates it),
with the UTC time on hover and machine-readable in ``datetime``.

``{{ when|moment }}`` looks the time zone up on every call; a list writes its moments with a
:class:`MomentFormat` made once per page (its row context), which writes the same markup."""
from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

DEFAULT_FORMAT = "Y-m-d H:i"


class MomentFormat:
    """``moment(value)`` for many values in one time zone, the current one when it is made.
    ``format(value)`` is ``value|moment:fmt``. The default format is written directly (as
    Django's ``Y-m-d H:i`` writes it), any other through Django's date formatting."""

    __slots__ = ("fmt", "tz")

    def __init__(self, fmt: str = DEFAULT_FORMAT, tz=None):
        self.fmt = fmt
        self.tz = tz or timezone.get_current_timezone()

    def __call__(self, value):
        if not isinstance(value, datetime):
            return value if value is not None else ""
        utc = value.astimezone(UTC) if value.utcoffset() is not None else value.replace(tzinfo=UTC)
        local = utc.astimezone(self.tz)
        if self.fmt == DEFAULT_FORMAT:
            shown = f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"
        else:
            shown = escape(date_format(local, self.fmt))
        return mark_safe(  # noqa: S308 - digits, and the formatted moment escaped
            f'<time datetime="{utc.strftime("%Y-%m-%dT%H:%M:%SZ")}" title="{utc.strftime("%Y-%m-%d %H:%M")} UTC">'
            f"{shown}</time>"
        )


@register.filter
def moment(value, fmt=DEFAULT_FORMAT):
    """``{{ when|moment }}`` → ``<time datetime="…Z" title="… UTC">local time</time>``."""
    return MomentFormat(fmt)(value)
