"""CSV export of operation records, streamed: memory stays flat however many rows match."""
from collections.abc import Iterator

from django.db.models import CharField, Func, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import StreamingHttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from audit.events import ActorKind, Category, Event
from partnercenter.csv_export import Neutralised, UtcSeconds, label, stream_csv

# Where Python writes the file (SQLite): rows fetched per round trip, rows written per chunk sent.
FETCH_ROWS = 2000
CHUNK_ROWS = 500

_FIELDS = [
    "id", "created_utc", "event", "event_text", "category_label", "partner__account_name", "partner_name_cell",
    "customer_account_cell", "customer_name_cell", "association_id", "association_request_id", "actor_name_cell",
    "actor_kind_label", "ip_text", "request_id_cell", "reason_cell", "before_json", "after_json",
]


def _header() -> list[str]:
    return [
        _("Record"), _("When (UTC)"), _("Event code"), _("Event"), _("Category"), _("Partner account"),
        _("Partner"), _("Customer account"), _("Customer"), _("Association"), _("Request"), _("Actor"),
        _("Actor kind"), _("IP address"), _("Request id"), _("Reason"), _("Before"), _("After"),
    ]


class _IpText(Func):
    """An IP address as text without a prefix length ("10.0.0.1", not "10.0.0.1/32")."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return Func(*self.source_expressions, function="HOST", output_field=CharField()).as_sql(compiler, connection)

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])


def _lines(queryset: QuerySet, header: list[str], labels: dict[str, dict[str, str]]) -> Iterator[bytes]:
    """The file, written by the database (partnercenter.csv_export: PostgreSQL's COPY). Text
    that comes from people (names, reasons, request ids) is defused if a spreadsheet would
    run it as a formula."""
    rows = queryset.annotate(
        created_utc=UtcSeconds("created_at"),
        event_text=label("event", labels["events"]),
        category_label=label("category", labels["categories"]),
        partner_name_cell=Neutralised("partner__name"),
        customer_account_cell=Neutralised("customer__account_name"),
        customer_name_cell=Neutralised("customer__name"),
        actor_name_cell=Neutralised("actor_name"),
        actor_kind_label=label("actor_kind", labels["kinds"]),
        ip_text=_IpText("ip"),
        request_id_cell=Neutralised("request_id"),
        reason_cell=Neutralised("reason"),
        before_json=Cast("before", output_field=TextField()),
        after_json=Cast("after", output_field=TextField()),
    ).values_list(*_FIELDS)
    return stream_csv(rows, header, fetch_rows=FETCH_ROWS, chunk_rows=CHUNK_ROWS)


def records_csv_response(queryset: QuerySet, *, filename: str) -> StreamingHttpResponse:
    """Stream ``queryset`` (already filtered and ordered) as CSV. Labels are translated now,
    in the request's language, because the rows are written after the view has returned."""
    labels = {
        "events": {e.value: str(e.label) for e in Event},
        "categories": {c.value: str(c.label) for c in Category},
        "kinds": {k.value: str(k.label) for k in ActorKind},
    }
    response = StreamingHttpResponse(_lines(queryset, _header(), labels), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response
