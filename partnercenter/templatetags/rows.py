"""``{% rows "app/rows/name.jinja" page row_context %}``: the ``<tbody>`` rows of a list page,
written by a Jinja2 template (DEVELOPERS.md, rule 13).

The template gets ``rows`` (``page.rows``, or the list itself), the items of ``row_context``
(what every row shares, worked out once per page by the app's ``rows`` module: translated
labels, the menu items the member's permissions allow, ``row_url`` links) and, from the
request, ``request``, ``csrf_input`` and ``csrf_token``, and ``tz``, the current time zone
(for the ``strftime`` filter). ``{% jinja "name.jinja" row_context
key=value %}`` renders one such template with extra values, for the parts of a row that a
detail page shows too."""
from django import template
from django.template import engines
from django.utils import timezone
from django.utils.safestring import mark_safe

register = template.Library()


def _render(context, name: str, values: dict) -> str:
    jinja = engines["jinja2"].get_template(name)
    values["tz"] = timezone.get_current_timezone()
    return mark_safe(jinja.render(values, context.get("request")))  # noqa: S308 - autoescaped by Jinja2


@register.simple_tag(takes_context=True)
def rows(context, name: str, page, row_context: dict | None = None):
    return _render(context, name, {**(row_context or {}), "rows": getattr(page, "rows", page)})


@register.simple_tag(takes_context=True)
def jinja(context, name: str, row_context: dict | None = None, **values):
    return _render(context, name, {**(row_context or {}), **values})
