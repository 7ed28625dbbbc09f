"""CSV export of the customer list (SPEC R23): exactly the rows the list shows for the same
tab, search, filters and sort, in that order, streamed so a large list never sits in memory."""
from django.db.models import Case, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from customers.models import Association
from customers.selectors import customer_list_rows
from customers.views import list_filter_form, list_filters
from partnercenter.access import member_permission_required
from partnercenter.csv_export import Neutralised, UtcSeconds, label, stream_csv


def _labels() -> dict:
    """Every translated word the file uses, resolved while the request's language is active:
    a streamed body is written after the view has returned."""
    return {
        "header": [
            _("Account name"),
            _("Customer"),
            _("E-mail"),
            _("Reseller"),
            _("Association type"),
            _("Account status"),
            _("Customer manager"),
            _("Associated since (UTC)"),
        ],
        "types": {value: str(label) for value, label in Association.Type.choices},
        "frozen": _("Frozen"),
        "arrears": _("In arrears"),
        "normal": _("Normal"),
    }


def csv_rows(qs, *, resellers: bool, labels: dict):
    """The file's cells, computed by the database (see partnercenter.csv_export). Names and
    e-mails come from outside, so a cell that starts like a spreadsheet formula gets a quote.
    The reseller column appears on a distributor's Resellers' customers tab only, as in the
    list."""
    # Only a manager of the viewer's own partner (``shown_manager_id``), as on the list.
    manager = Case(
        When(
            shown_manager_id__isnull=False,
            then=Coalesce(
                NullIf("customer__manager__display_name", Value("")),
                NullIf("customer__manager__member_name", Value("")),
                "customer__manager__username",
            ),
        ),
        default=None,
    )
    status = Case(
        When(customer__frozen=True, then=Value(labels["frozen"])),
        When(customer__arrears__gt=0, then=Value(labels["arrears"])),
        default=Value(labels["normal"]),
    )
    cells = {
        "c_account": Neutralised("customer__account_name"),
        "c_name": Neutralised("customer__name"),
        "c_email": Neutralised("customer__email"),
        "c_reseller": Neutralised("partner__name"),
        "c_type": label("type", labels["types"]),
        "c_status": status,
        "c_manager": Neutralised(manager),
        "c_since": UtcSeconds("started_at"),
    }
    if not resellers:
        del cells["c_reseller"]
    return qs.annotate(**cells).values_list(*cells)


@require_GET
@member_permission_required("customers.view_customer", "customers.export_customers")
def customer_export(request):
    tab, form = list_filter_form(request)
    qs, ordering = customer_list_rows(request.user, tab=tab, filters=list_filters(form))
    resellers = tab == "resellers"
    labels = _labels()
    header = labels["header"] if resellers else labels["header"][:3] + labels["header"][4:]
    rows = csv_rows(qs.order_by(*ordering), resellers=resellers, labels=labels)
    response = StreamingHttpResponse(stream_csv(rows, header), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
    return response
