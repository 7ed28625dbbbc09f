"""What every row of the invitations and projects lists shares, worked out once per page for
their Jinja2 templates (``templates/jinja2/customers/invitation_rows.jinja``,
``project_rows.jinja``): translated labels and choice labels, and the links' ``row_url``."""
from django.utils.translation import gettext

from customers.models import Association, Invitation, ProjectRegistration
from partnercenter.jinja import row_url

# What ``invitation_rows.jinja`` reads of an invitation (with the nonce its link is signed
# from) and of the member who sent it (``User.__str__``: display name, member name or
# username), for ``QuerySet.only``.
INVITATION_ROW_FIELDS = (
    "id", "email", "name", "type", "status", "sent_at", "expires_at", "nonce",
    "created_by__display_name", "created_by__member_name", "created_by__username",
)


def invitation_rows_context(request) -> dict:
    return {
        "types": {value: str(label) for value, label in Association.Type.choices},
        "statuses": {value: str(label) for value, label in Invitation.Status.choices},
        "resend_url": row_url("customers:invitation_resend"),
        "revoke_url": row_url("customers:invitation_revoke"),
        "labels": {
            "resend": gettext("Re-send"),
            "revoke": gettext("Revoke"),
            "link_for": gettext("Invitation link for %(email)s"),
            "copied": gettext("Copied"),
            "copy_link": gettext("Copy link"),
        },
    }


def project_rows_context(request) -> dict:
    return {"statuses": {value: str(label) for value, label in ProjectRegistration.Status.choices}}
