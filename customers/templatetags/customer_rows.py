"""The rows of the customer list, written in Python: ``{% customer_row association %}``, and
the two parts the customer page shares with it, ``{% operation_menu customer association %}``
and ``{% account_status customer %}``.

As template includes, a page of 50 rows spent about three quarters of its server time in the
template engine (a dozen nodes, five permission lookups and three includes per row), which
kept the list at twice its target (issue 9). These tags write the same markup with escaping
done by hand (``escape``/``format_html``): what depends only on the request (the menu items
the member's permissions allow, the translated labels, the URL prefixes) is worked out once per
render and kept in the render context; each row then only fills in its own values."""
from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_noop

from customers.models import Association
from partnercenter.markup import per_render
from partnercenter.markup import text as escape
from partnercenter.templatetags.row_urls import row_url_parts

register = template.Library()

# (view name, label, permission, reseller associations only), in menu order. The labels are
# translated when a page renders, in that request's language.
_MENU = [
    ("customers:switch_check", gettext_noop("Switch association type"), "customers.switch_association", False),
    ("customers:unbind_check", gettext_noop("Unbind"), "customers.unbind_association", False),
    ("customers:funds_allocate", gettext_noop("Allocate funds"), "customers.allocate_funds", True),
    ("customers:funds_recover", gettext_noop("Recover funds"), "customers.recover_funds", True),
    ("customers:voucher_issue", gettext_noop("Issue voucher"), "customers.issue_vouchers", False),
    ("customers:detail", gettext_noop("Details"), None, False),
]


class _Parts:
    """What every row of one render shares: worked out once, in the request's language."""

    def __init__(self, context):
        perms = context.get("perms")
        # Each menu's items as the pieces between the customer keys of their links: a row's
        # items are its key joined with these pieces. One menu for reseller associations
        # (which may move funds), one for the others.
        entries = [
            (*row_url_parts(name), escape(gettext(label)), reseller_only)
            for name, label, perm, reseller_only in _MENU
            if perm is None or (perms is not None and perm in perms)
        ]
        self.items = {
            reseller: _key_pieces([entry[:3] for entry in entries if reseller or not entry[3]])
            for reseller in (False, True)
        }
        self.detail = row_url_parts("customers:detail")
        self.more = escape(gettext("More"))
        self.more_for = gettext("More actions for %(name)s")
        self.choose_text = gettext("Choose %(name)s")
        self.pending_until = gettext("Pending request until %(deadline)s")
        self.types = {value: escape(label) for value, label in Association.Type.choices}
        self.frozen = format_html('<span class="badge text-bg-danger">{}</span>', gettext("Frozen"))
        self.arrears = format_html('<span class="badge text-bg-warning">{}</span>', gettext("In arrears"))
        self.normal = format_html('<span class="badge text-bg-success">{}</span>', gettext("Normal"))
        self.timezone = timezone.get_current_timezone()
        tab = context.get("tab")
        self.mine = tab == "mine"
        self.resellers = tab == "resellers"
        self.choose = self.mine and perms is not None and "organization.manage_members" in perms


def _key_pieces(items: list[tuple[str, str, str]]) -> list[str]:
    """``<li>`` links (URL before the key, URL after it, label) as the text between their keys."""
    pieces, text = [], ""
    for before, after, label in items:
        pieces.append(f'{text}<li><a class="dropdown-item" href="{before}')
        text = f'{after}">{label}</a></li>'
    return [*pieces, text] if items else [""]


def _parts(context) -> _Parts:
    return per_render(context, "customer_rows.parts", _Parts)


def _menu(parts: _Parts, customer, association) -> str:
    reseller = association is not None and association.type == "reseller"
    items = str(int(customer.pk)).join(parts.items[reseller])
    label = escape(parts.more_for % {"name": customer.name})
    return (
        '<div class="dropdown">\n'
        '  <button class="btn btn-sm btn-outline-secondary dropdown-toggle" type="button" '
        'data-bs-toggle="dropdown" aria-expanded="false"\n'
        "          data-bs-popper-config='{\"strategy\": \"fixed\"}'\n"
        f'          aria-label="{label}">{parts.more} ›</button>\n'
        f'  <ul class="dropdown-menu">{items}</ul>\n'
        "</div>"
    )


def _status(parts: _Parts, customer) -> str:
    if customer.frozen or customer.in_arrears:
        return (parts.frozen if customer.frozen else "") + (parts.arrears if customer.in_arrears else "")
    return parts.normal


def _day(parts: _Parts, moment) -> str:
    """The date of ``moment`` in the request's time zone, as YYYY-MM-DD."""
    if timezone.is_aware(moment):
        moment = moment.astimezone(parts.timezone)
    return moment.strftime("%Y-%m-%d")


@register.simple_tag(takes_context=True)
def operation_menu(context, customer, association):
    """The *More* menu of one customer: the actions the member may take on it."""
    return mark_safe(_menu(_parts(context), customer, association))  # noqa: S308 - every value escaped above


@register.simple_tag(takes_context=True)
def account_status(context, customer):
    """Frozen and in-arrears badges, or *Normal*."""
    return mark_safe(_status(_parts(context), customer))  # noqa: S308 - fixed markup, escaped labels


@register.simple_tag(takes_context=True)
def customer_row(context, association):
    """One ``<tr>`` of the customer list (``page.rows`` are ``ListedAssociation``: the
    association with its open request, customer, manager's name and, on the resellers' tab,
    the reseller's name)."""
    parts = _parts(context)
    customer = association.customer
    name = escape(customer.name)
    cells = []
    if parts.choose:
        choose = escape(parts.choose_text % {"name": customer.name})
        cells.append(
            f'<td><input class="form-check-input" type="checkbox" name="customers" value="{customer.pk}" '
            f'form="assign-manager" aria-label="{choose}"></td>'
        )
    link = f'<a href="{parts.detail[0]}{int(customer.pk)}{parts.detail[1]}">{name}</a>' if parts.mine else name
    pending = ""
    if association.pending_request_id:
        until = parts.pending_until % {"deadline": _day(parts, association.pending_request_deadline)}
        pending = f'\n<div><span class="badge text-bg-warning">{escape(until)}</span></div>'
    cells.append(f'<td>\n{link}\n<div class="small text-muted">{escape(customer.account_name)}</div>{pending}\n</td>')
    cells.append(f"<td>{escape(customer.email)}</td>")
    if parts.resellers:
        cells.append(f"<td>{escape(association.partner_name)}</td>")
    cells.append(f"<td>{parts.types.get(association.type) or escape(association.type)}</td>")
    cells.append(f"<td>{_status(parts, customer)}</td>")
    cells.append(f"<td>{escape(customer.manager_name) if customer.manager_id else '—'}</td>")
    cells.append(f"<td>{_day(parts, association.started_at)}</td>")
    if parts.mine:
        cells.append(f"<td>{_menu(parts, customer, association)}</td>")
    return mark_safe("<tr>\n" + "\n".join(cells) + "\n</tr>")  # noqa: S308 - every value escaped above
