"""What every row of an endpoint's delivery log shares, once per page, for
``templates/jinja2/webhooks/delivery_rows.jinja``."""
from django.middleware.csrf import get_token
from django.utils.translation import gettext

from partnercenter.jinja import row_url
from webhooks.fanout import TEST_EVENT, event_types
from webhooks.models import Delivery


def delivery_rows_context(request) -> dict:
    return {
        "events": {**dict(event_types()), TEST_EVENT: gettext("Test event")},
        "statuses": {value: str(label) for value, label in Delivery.Status.choices},
        "redeliver_url": row_url("webhooks:redeliver"),
        "redeliver": gettext("Redeliver"),
        "csrf_token": get_token(request),
        "pending": (Delivery.Status.QUEUED, Delivery.Status.SENDING),
        "ms": gettext("%(ms)s ms"),
    }
