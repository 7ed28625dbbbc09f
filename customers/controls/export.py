"""A batch's result as CSV: every row's customer, outcome and message, streamed."""
from django.db.models import F
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _

from customers.models import Batch, BatchRow
from partnercenter.csv_export import Neutralised, UtcSeconds, label, stream_csv


def batch_csv_response(batch: Batch) -> StreamingHttpResponse:
    header = [_("Customer ID"), _("Account name"), _("Customer"), _("Outcome"), _("Message"), _("Processed (UTC)")]
    outcomes = {value: str(text) for value, text in BatchRow.Outcome.choices}
    cells = {
        "c_id": F("customer_id"),
        "c_account": Neutralised("customer__account_name"),
        "c_name": Neutralised("customer__name"),
        "c_outcome": label("outcome", outcomes),
        "c_message": Neutralised("message"),
        "c_when": UtcSeconds("processed_at"),
    }
    rows = BatchRow.objects.filter(batch=batch).order_by("id").annotate(**cells).values_list(*cells)
    response = StreamingHttpResponse(stream_csv(rows, header), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}.csv"'
    return response
