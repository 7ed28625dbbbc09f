"""The parts of the page layout that are the same for every member with the same permissions
in the same language: ``{% partner_nav %}`` (the main menu) and ``{% language_options %}`` (the
language switch's choices).

Both are templates (``includes/partner_nav.html``, ``includes/language_options.html``). Every
page shows them, and they cost a dozen ``{% url %}`` reversals, twenty translations, a
permission lookup per menu entry and a translation switch per language: each distinct rendering
is made once per process and kept, keyed by everything it depends on (the language, the script
prefix and URLconf in force and, for the menu, the member's permissions). ``{% fixed_url %}``
is ``{% url %}`` for the addresses without arguments, kept the same way."""
from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()

# A few entries per language and permission set in use; bounded all the same, since custom
# roles make any set of permissions possible.
_MAX_ENTRIES = 512
_NAV: dict[tuple, str] = {}
_LANGUAGE_OPTIONS: dict[str, str] = {}


@register.simple_tag(takes_context=True)
def partner_nav(context) -> str:
    """``includes/partner_nav.html`` for the signed-in member (``perms`` in the context)."""
    perms = context.get("perms")
    if perms is None:
        return ""
    key = (translation.get_language(), get_script_prefix(), get_urlconf(), frozenset(perms.user.get_all_permissions()))
    html = _NAV.get(key)
    if html is None:
        if len(_NAV) >= _MAX_ENTRIES:
            _NAV.clear()
        html = _NAV[key] = render_to_string("includes/partner_nav.html", {"perms": perms})
    return mark_safe(html)  # noqa: S308 - a template's own output


@register.simple_tag
def language_options() -> str:
    """The ``<option>`` of each available language, named in its own language, the current one
    selected."""
    current = translation.get_language()
    html = _LANGUAGE_OPTIONS.get(current)
    if html is None:
        languages = []
        for code, name in settings.LANGUAGES:
            with translation.override(code):
                languages.append((code, translation.gettext(name)))
        html = _LANGUAGE_OPTIONS[current] = render_to_string(
            "includes/language_options.html", {"languages": languages, "current": current}
        )
    return mark_safe(html)  # noqa: S308 - a template's own output


_URLS: dict[tuple, str] = {}


@register.simple_tag
def fixed_url(viewname: str) -> str:
    """``{% url viewname %}`` for a view that takes no arguments, reversed once per view name,
    script prefix and URLconf and kept: a reversal costs about 20 µs, and the layout and the list
    pages' buttons write a dozen such addresses on every page (issue 17)."""
    key = (viewname, get_script_prefix(), get_urlconf())
    url = _URLS.get(key)
    if url is None:
        if len(_URLS) >= _MAX_ENTRIES:
            _URLS.clear()
        url = _URLS[key] = conditional_escape(reverse(viewname))
    return url
