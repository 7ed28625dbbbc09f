"""What every row of the Members and Roles lists shares, worked out once per page for their
Jinja2 templates (``templates/jinja2/organization/``): translated labels and the links'
``row_url``."""
from django.utils.translation import gettext

from partnercenter.jinja import row_url


def member_rows_context(request) -> dict:
    return {
        "me": request.user.pk,
        "edit_url": row_url("organization:member_edit"),
        "reset_url": row_url("organization:member_reset_password"),
        "disable_url": row_url("organization:member_disable"),
        "enable_url": row_url("organization:member_enable"),
        "labels": {
            "partner_admin": gettext("Partner administrator"),
            "active": gettext("Active"),
            "disabled": gettext("Disabled"),
            "edit": gettext("Edit"),
            "reset": gettext("Reset password"),
            "disable": gettext("Disable"),
            "enable": gettext("Enable"),
        },
    }


def role_rows_context(request) -> dict:
    return {
        "edit_url": row_url("organization:role_edit"),
        "delete_url": row_url("organization:role_delete"),
        "labels": {
            "custom": gettext("Custom"),
            "builtin": gettext("Built-in (read-only)"),
            "edit": gettext("Edit"),
            "delete": gettext("Delete"),
            "view": gettext("View"),
        },
    }
