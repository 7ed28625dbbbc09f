"""``{% row_url "app:name" pk %}``: ``{% url "app:name" pk %}`` for the links every row of a
list repeats.

Reversing walks the URL resolver each time, and a customer list of 50 rows with seven links
each spent more of its render time reversing than on anything else (issue 9). This tag
reverses each view name once, with a sentinel key, and then writes each row's key into the
path by concatenation. The cache is keyed by the script prefix and URLconf in force, so a
deployment under a sub-path or a request-specific URLconf still gets its own URLs."""
from django import template
from django.urls import get_script_prefix, get_urlconf, reverse

from partnercenter.markup import text

register = template.Library()

# A key no row has; only its position in the reversed path is used.
_SENTINEL = 987654321987654321
_SPLITS: dict[tuple, tuple[str, str] | None] = {}


def _split(viewname: str) -> tuple[str, str] | None:
    key = (viewname, get_script_prefix(), get_urlconf())
    if key not in _SPLITS:
        prefix, found, suffix = reverse(viewname, args=[_SENTINEL]).partition(str(_SENTINEL))
        _SPLITS[key] = (prefix, suffix) if found else None
    return _SPLITS[key]


def row_url_parts(viewname: str) -> tuple[str, str]:
    """The URL of ``viewname`` (one ``<int:…>`` argument) before and after the key, HTML-escaped,
    for code that writes many rows' links itself."""
    split = _split(viewname)
    if split is None:
        raise ValueError(f"{viewname} does not take one integer key")
    return text(split[0]), text(split[1])


@register.simple_tag
def row_url(viewname: str, pk) -> str:
    """The URL of ``viewname`` for the integer key ``pk`` (the view takes one ``<int:…>``)."""
    split = _split(viewname) if isinstance(pk, int) else None
    if split is None:
        return reverse(viewname, args=[pk])
    return f"{split[0]}{pk}{split[1]}"
