"""The portal's permission catalogue (SPEC R19), grouped by menu, and the built-in roles.

Permissions are ordinary Django permissions (``app_label.codename``); a role grants a set of
them. The role editor offers exactly this catalogue."""
from django.utils.translation import gettext_lazy as _

CATALOGUE = [
    (
        _("Sales › Customers"),
        [
            "customers.view_customer",
            "customers.export_customers",
            "customers.invite_customers",
            "customers.switch_association",
            "customers.unbind_association",
            "customers.handle_dissociation",
            "customers.allocate_funds",
            "customers.recover_funds",
            "customers.issue_vouchers",
            "customers.freeze_customers",
            "customers.manage_budgets",
        ],
    ),
    (_("Records"), ["audit.view_operationrecord", "audit.export_records"]),
    (
        _("Organization"),
        ["organization.manage_members", "organization.manage_roles", "organization.manage_settings"],
    ),
    (_("API"), ["organization.use_api", "webhooks.manage_webhooks"]),
]

ALL_PORTAL_PERMISSIONS = [perm for _group, perms in CATALOGUE for perm in perms]

# A supervisor may do what a manager may; what differs is whose customers (``manager_scope``).
_CUSTOMER_MANAGER_PERMISSIONS = [
    "customers.view_customer",
    "customers.invite_customers",
    "customers.switch_association",
    "customers.unbind_association",
    "customers.handle_dissociation",
    "customers.issue_vouchers",
    "audit.view_operationrecord",
]

BUILTIN_ROLE_PERMISSIONS = {
    "system_admin": ALL_PORTAL_PERMISSIONS,
    "customer_manager": _CUSTOMER_MANAGER_PERMISSIONS,
    "customer_manager_supervisor": _CUSTOMER_MANAGER_PERMISSIONS,
    "finance": [
        "customers.view_customer",
        "customers.allocate_funds",
        "customers.recover_funds",
        "customers.issue_vouchers",
        "customers.manage_budgets",
        "audit.view_operationrecord",
    ],
    "read_only": ["customers.view_customer", "audit.view_operationrecord"],
}


# What each built-in role is for, translated when shown: the rows of migration 0002 keep the
# English text, which the portal shows only for custom roles (whose description partners type).
BUILTIN_ROLE_DESCRIPTIONS = {
    "system_admin": _("All permissions; cannot be combined with another role."),
    "customer_manager": _("Sees and acts on the customers they manage."),
    "customer_manager_supervisor": _("Also sees the customers of the managers they supervise."),
    "finance": _("Allocates and recovers funds, issues vouchers."),
    "read_only": _("Views customers and records."),
}


def split(perm: str) -> tuple[str, str]:
    app_label, codename = perm.split(".", 1)
    return app_label, codename
