"""What every row of the records list shares, worked out once per page for
``templates/jinja2/audit/record_rows.jinja``: the translated labels of events, categories and
actor kinds (looked up per row, rather than a ``get_…_display()`` per row, which hashes the
translated choices on every call) and the detail link's ``row_url``."""
from django.utils.translation import gettext

from audit.events import ActorKind, Category, Event
from partnercenter.jinja import row_url

REASON_CHARS = 80


def record_rows_context(request, *, tab: str) -> dict:
    return {
        "events": {value: str(label) for value, label in Event.choices},
        "categories": {value: str(label) for value, label in Category.choices},
        "actor_kinds": {value: str(label) for value, label in ActorKind.choices},
        "detail_url": row_url("audit:detail"),
        "details": gettext("Details"),
        "resellers": tab == "resellers",
        "reason_chars": REASON_CHARS,
    }


def account_center_record_rows_context(request) -> dict:
    """The row context of ``audit/account_center_record_rows.jinja`` (the customer's log)."""
    return {
        "events": {value: str(label) for value, label in Event.choices},
        "actor_kinds": {value: str(label) for value, label in ActorKind.choices},
        "me": request.user.pk,
        "you": gettext("You"),
    }
