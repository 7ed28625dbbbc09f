"""What every row of the customer list shares, worked out once per page for its Jinja2
templates (``templates/jinja2/customers/``): the translated labels, the *More* menu items the
member's permissions allow and the links' ``row_url``. The customer page renders the menu and
the account status from the same context."""
from django.utils.translation import gettext, gettext_noop

from customers.controls.selectors import granted_for
from customers.models import Association, AssociationRequest
from partnercenter.jinja import row_url

# (view name, label, permission, reseller associations only), in menu order. The labels are
# translated when a page renders, in that request's language.
_MENU = [
    ("customers:switch_check", gettext_noop("Switch association type"), "customers.switch_association", False),
    ("customers:unbind_check", gettext_noop("Unbind"), "customers.unbind_association", False),
    ("customers:funds_allocate", gettext_noop("Allocate funds"), "customers.allocate_funds", True),
    ("customers:funds_recover", gettext_noop("Recover funds"), "customers.recover_funds", True),
    ("customers:voucher_issue", gettext_noop("Issue voucher"), "customers.issue_vouchers", False),
    ("customers:controls_freeze", gettext_noop("Freeze account"), "customers.freeze_customers", True),
    ("customers:controls_unfreeze", gettext_noop("Unfreeze account"), "customers.freeze_customers", True),
    ("customers:controls_budget", gettext_noop("Set monthly budget"), "customers.manage_budgets", True),
    ("customers:detail", gettext_noop("Details"), None, False),
]


def customer_rows_context(request, *, tab: str = "mine") -> dict:
    """The row context of ``customers/customer_row.jinja`` (and of ``operation_menu.jinja``
    and ``account_status.jinja``) for the member of ``request`` on ``tab``."""
    perms = set(request.user.get_all_permissions())
    if "customers.freeze_customers" in perms and not granted_for(request.user):
        perms.discard("customers.freeze_customers")  # a reseller its distributor has not granted it
    items = [
        (*row_url(name), gettext(label), reseller_only)
        for name, label, perm, reseller_only in _MENU
        if perm is None or perm in perms
    ]
    mine = tab == "mine"
    return {
        # One menu for reseller associations (which may move funds), one for the others.
        "menus": {
            reseller: [(before, after, label) for before, after, label, only in items if reseller or not only]
            for reseller in (False, True)
        },
        "detail_url": row_url("customers:detail"),
        "types": {value: str(label) for value, label in Association.Type.choices},
        "labels": {
            "more": gettext("More"),
            "more_for": gettext("More actions for %(name)s"),
            "choose": gettext("Choose %(name)s"),
            "pending_until": gettext("Pending request until %(deadline)s"),
            "frozen": gettext("Frozen"),
            "arrears": gettext("In arrears"),
            "normal": gettext("Normal"),
        },
        "mine": mine,
        "resellers": tab == "resellers",
        # Ticking rows: to give them a manager, or for a batch action (customers.controls).
        "choose": mine and bool(perms & {"organization.manage_members", "customers.freeze_customers",
                                         "customers.manage_budgets"}),
    }


def request_rows_context(request) -> dict:
    """The row context of ``customers/request_rows.jinja`` (the requests inbox)."""
    return {
        "kinds": {value: str(label) for value, label in AssociationRequest.Kind.choices},
        "statuses": {value: str(label) for value, label in AssociationRequest.Status.choices},
        "detail_url": row_url("customers:request_detail"),
        "labels": {"handle": gettext("Handle"), "open": gettext("Open")},
    }


def association_request_rows_context() -> dict:
    """The row context of ``customers/association_request_rows.jinja`` (the customer page's
    requests)."""
    return {
        "kinds": {value: str(label) for value, label in AssociationRequest.Kind.choices},
        "statuses": {value: str(label) for value, label in AssociationRequest.Status.choices},
        "detail_url": row_url("customers:request_detail"),
        "labels": {"open": gettext("Open")},
    }


def account_center_request_rows_context() -> dict:
    """The row context of ``customers/account_center_request_rows.jinja`` (the Account Center
    home's requests)."""
    return {
        "statuses": {value: str(label) for value, label in AssociationRequest.Status.choices},
        "handle_url": row_url("account_center:request_handle"),
        "labels": {"open": gettext("Open")},
    }
