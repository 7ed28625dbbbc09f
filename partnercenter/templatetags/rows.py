"""``{% rows "app/rows/name.jinja" page row_context %}``: the ``<tbody>`` rows of a list page,
written by a Jinja2 template (DEVELOPERS.md, rule 13).

The template gets ``rows`` (``page.rows``, or the list itself), the items of ``row_context``
(what every row shares, worked out once per page by the app's ``rows`` module: translated
labels, the menu items the member's permissions allow, ``row_url`` links) and, from the
request, ``request``, ``csrf_input`` and ``csrf_token``, and ``tz``, the current time zone
(for the ``strftime`` filter). ``{% jinja "name.jinja" row_context
key=value %}`` renders one such template with extra values, for the parts of a row that a
detail page shows too.

``csrf_input`` and ``csrf_token`` are worked out once per rendered template, the first time a
row writes one: the Jinja2 backend's own are lazy strings that mask the token again on every
use (32 random choices each), which a list with a form per row paid for on every row. One
masked token serves every form of the rows, as a page's forms share one in Django templates."""
from django import template
from django.middleware.csrf import get_token
from django.template import engines
from django.template.backends.utils import csrf_input
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe

register = template.Library()


def _render(context, name: str, values: dict) -> str:
    jinja = engines["jinja2"].get_template(name)
    values["tz"] = timezone.get_current_timezone()
    request = context.get("request")
    if request is not None:
        # What the backend's render adds for a request (the jinja2 engine has no context
        # processors), with the token read once.
        values["request"] = request
        values["csrf_input"] = SimpleLazyObject(lambda: csrf_input(request))
        values["csrf_token"] = SimpleLazyObject(lambda: get_token(request))
    return mark_safe(jinja.render(values))  # noqa: S308 - autoescaped by Jinja2


@register.simple_tag(takes_context=True)
def rows(context, name: str, page, row_context: dict | None = None):
    return _render(context, name, {**(row_context or {}), "rows": getattr(page, "rows", page)})


@register.simple_tag(takes_context=True)
def jinja(context, name: str, row_context: dict | None = None, **values):
    return _render(context, name, {**(row_context or {}), **values})
