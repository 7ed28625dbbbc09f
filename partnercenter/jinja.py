"""The Jinja2 environment of the ``jinja2`` template engine (``settings.TEMPLATES``), which
writes the rows of every list (``{% rows %}`` in ``partnercenter/templatetags/rows.py``).

Autoescaping is on, with Django's escaping (:func:`django_escape`); ``_``/``gettext``/
``ngettext`` are Django's translation functions (the ``jinja2.ext.i18n`` extension, new-style).
``url``/``static`` are Django's ``reverse``/``static``; :func:`row_url` reverses a view once so
that each row only writes its key into the path. Filters: ``strftime`` writes a date or time in
the page's time zone, as ``|date`` does in Django templates; ``date`` is Django's ``|date`` (format
names such as ``SHORT_DATETIME_FORMAT`` in the language's format, the current time zone);
``truncatechars`` and ``timeuntil`` are Django's; ``money``, ``grouped`` and ``moment`` are the portal's filters of
the same names (``partnercenter/templatetags``)."""
import unicodedata
from datetime import datetime

from django.template.defaultfilters import date as django_date
from django.template.defaultfilters import timeuntil_filter
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.timezone import template_localtime
from jinja2 import Environment
from jinja2.compiler import CodeGenerator
from markupsafe import Markup, escape
from markupsafe._speedups import _escape_inner

from partnercenter.templatetags.moments import moment
from partnercenter.templatetags.money import grouped, money

# A key no row has; only its position in the reversed path is used.
_SENTINEL = 987654321987654321


_ROW_URLS: dict[tuple, tuple[Markup, Markup]] = {}


def row_url(viewname: str) -> tuple[Markup, Markup]:
    """The URL of ``viewname`` (which takes one integer key) before and after the key, as
    escaped text: a row writes ``{{ before }}{{ pk }}{{ after }}``, which is
    ``url(viewname, args=[pk])``. Reversed once per view name, script prefix and URLconf."""
    key = (viewname, get_script_prefix(), get_urlconf())
    parts = _ROW_URLS.get(key)
    if parts is None:
        before, found, after = reverse(viewname, args=[_SENTINEL]).partition(str(_SENTINEL))
        if not found:
            raise ValueError(f"{viewname} does not take one integer key")
        parts = _ROW_URLS[key] = (escape(before), escape(after))
    return parts


def strftime(value, fmt: str, tz=None) -> str:
    """``value`` (a date, or a datetime shown in the time zone ``tz``, by default the current
    one) formatted by ``fmt`` (``strftime`` codes); "" for None. ``{% rows %}`` gives its
    templates ``tz``, the current time zone looked up once per page."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = value.astimezone(tz or timezone.get_current_timezone())
    return value.strftime(fmt)


def truncatechars(value, length: int) -> str:
    """Django's ``|truncatechars``: at most ``length`` characters, the last one "…". A text
    no longer than that is only NFC-normalised, as Django returns it, without Django's walk
    over every character (most reasons in a list are short)."""
    text = unicodedata.normalize("NFC", str(value))
    if len(text) <= length:
        return text
    return Truncator(text).chars(length)


def date(value, fmt: str | None = None) -> str:
    """Django's ``|date``: ``value`` in the current time zone, formatted by a Django format or
    format name; "" for None."""
    return django_date(template_localtime(value), fmt)


def django_escape(value) -> str:
    """``value`` as HTML text, escaped as Django escapes it (``&quot;`` and ``&#x27;``, where
    MarkupSafe writes ``&#34;`` and ``&#39;``), so that a page reads the same whichever engine
    wrote its parts; a value marked safe as it is."""
    if hasattr(value, "__html__"):
        return value.__html__()
    text = _escape_inner(str(value))
    if "&#" in text:
        text = text.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")
    return text


class _DjangoEscaping(CodeGenerator):
    """Compiles each autoescaped ``{{ … }}`` to ``environment.escape(…)`` (Django's escaping)
    rather than MarkupSafe's ``escape(…)``; ``tests/test_row_templates.py`` checks the output."""

    def _output_child_pre(self, node, frame, finalize):
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.escape(")
            if finalize.src is not None:
                self.write(finalize.src)
        else:
            super()._output_child_pre(node, frame, finalize)


class PortalEnvironment(Environment):
    code_generator_class = _DjangoEscaping
    escape = staticmethod(django_escape)


def environment(**options) -> Environment:
    extensions = [*options.pop("extensions", []), "jinja2.ext.i18n"]
    env = PortalEnvironment(extensions=extensions, **options)
    env.install_gettext_callables(translation.gettext, translation.ngettext, newstyle=True)
    env.globals.update(url=reverse, static=static)
    env.filters.update(date=date, grouped=grouped, money=money, moment=moment, strftime=strftime,
                       timeuntil=timeuntil_filter, truncatechars=truncatechars)
    return env
