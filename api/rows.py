"""What every row of the API keys list shares, worked out once per page for its Jinja2
template (``templates/jinja2/api/key_rows.jinja``): translated labels and the revoke link's
``row_url``."""
from django.utils.translation import gettext

from partnercenter.jinja import row_url


def key_rows_context(request) -> dict:
    return {
        "revoke_url": row_url("api_keys:revoke"),
        "labels": {
            "revoked": gettext("Revoked %(when)s by %(who)s"),
            "active": gettext("Active"),
            "revoke": gettext("Revoke"),
        },
    }
