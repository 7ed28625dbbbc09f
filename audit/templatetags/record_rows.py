"""``{% record_row record %}``: one row of the operation records page, written in Python.

As a template, each of the 50 rows resolved a dozen variables and two ``get_…_display()``
calls, which hash the translated choices on every call: under the profiler those calls alone
took about 15% of the page's time, and the rows most of its template time (issue 9). The
labels of events, categories and actor kinds are translated once per render here and looked
up per row."""
from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext

from audit.events import ActorKind, Category, Event
from partnercenter.markup import per_render
from partnercenter.markup import text as escape
from partnercenter.templatetags.row_urls import row_url_parts

register = template.Library()

REASON_CHARS = 80


class _Parts:
    def __init__(self, context):
        self.events = {value: escape(label) for value, label in Event.choices}
        self.categories = {value: escape(label) for value, label in Category.choices}
        self.actor_kinds = {value: escape(label) for value, label in ActorKind.choices}
        self.detail = row_url_parts("audit:detail")
        self.details = escape(gettext("Details"))
        self.resellers = context.get("tab") == "resellers"
        self.timezone = timezone.get_current_timezone()


def _parts(context) -> _Parts:
    return per_render(context, "record_rows.parts", _Parts)


@register.simple_tag(takes_context=True)
def record_row(context, record):
    """One ``<tr>`` of the records list (``page.rows`` are ``ListedRecord``)."""
    parts = _parts(context)
    when = record.created_at.astimezone(parts.timezone).strftime("%Y-%m-%d %H:%M:%S")
    event = parts.events.get(record.event) or escape(record.event)
    category = parts.categories.get(record.category) or escape(record.category)
    if record.customer_id:
        account = escape(record.customer_account_name)
        who = f'{escape(record.customer_name)}<div class="small text-muted">{account}</div>'
    else:
        who = "—"
    kind = parts.actor_kinds.get(record.actor_kind) or escape(record.actor_kind)
    reason = escape(Truncator(record.reason).chars(REASON_CHARS)) if record.reason else "—"
    pk = int(record.pk)
    cells = [
        f'<td class="text-nowrap">{when}</td>',
        f'<td>{event}<div class="small text-muted">{category}</div></td>',
        f"<td>{who}</td>",
        *([f"<td>{escape(record.partner_name)}</td>"] if parts.resellers else []),
        f'<td>{escape(record.actor_name)}<div class="small text-muted">{kind}</div></td>',
        f"<td>{reason}</td>",
        f'<td><a href="{parts.detail[0]}{pk}{parts.detail[1]}">{parts.details}'
        f'<span class="visually-hidden"> #{pk}</span></a></td>',
    ]
    return mark_safe("<tr>\n" + "\n".join(cells) + "\n</tr>")  # noqa: S308 - every value escaped above
