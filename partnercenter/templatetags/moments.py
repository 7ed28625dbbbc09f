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


def _minutes(value: datetime) -> str:
    """``value`` as Django's ``Y-m-d H:i`` writes it (the year on four digits), at a tenth of
    its cost: a list writes one or two moments a row."""
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}"


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
        shown = _minutes(local) if self.fmt == DEFAULT_FORMAT else escape(date_format(local, self.fmt))
        return mark_safe(  # noqa: S308 - digits, and the formatted moment escaped
            f'<time datetime="{utc.year:04d}-{utc:%m-%dT%H:%M:%S}Z" title="{_minutes(utc)} UTC">{shown}</time>'
        )


@register.filter
def moment(value, fmt=DEFAULT_FORMAT):
    """``{{ when|moment }}`` → ``<time datetime="…Z" title="… UTC">local time</time>``."""
    return MomentFormat(fmt)(value)
