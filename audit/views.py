"""Operation record pages of the partner portal: the list, one record, the CSV export."""
import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.export import records_csv_response
from audit.fields import field_label
from audit.forms import RecordFilterForm
from audit.rows import record_rows_context
from audit.selectors import (
    filter_records,
    listed_record,
    record_for_member,
    record_listing,
    records_visible_to,
)
from partnercenter.access import member_permission_required
from partnercenter.pagination import filter_data, filtered, list_page

MINE, RESELLERS = "mine", "resellers"
# Newest first. Ids only grow, so records written while someone pages through the list land
# before page one and never shift the later pages.
ORDERING = ["-id"]


def _tab(request) -> str:
    wanted = request.GET.get("tab") == RESELLERS
    return RESELLERS if wanted and request.user.partner.is_distributor else MINE


def _filtered(request, tab: str):
    """The filter form and the records it selects on ``tab``; invalid filters select none."""
    form = RecordFilterForm(filter_data(request))
    qs = records_visible_to(request.user, resellers=tab == RESELLERS)
    return form, filtered(qs, form, filter_records)


@require_GET
@member_permission_required("audit.view_operationrecord")
def record_list(request):
    tab = _tab(request)
    form, qs = _filtered(request, tab)
    listed = list_page(
        request,
        queryset=qs,
        listing=record_listing(qs, resellers=tab == RESELLERS),
        ordering=ORDERING,
        scope=f"records:{request.user.partner_id}:{tab}",
        form=form,
        row=listed_record,
    )
    context = listed.context(tab=tab, row_context=record_rows_context(request, tab=tab))
    return render(request, "audit/record_list.html", context)


def _shown(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _changes(before: dict, after: dict, *, event: str) -> list[dict]:
    """Every key either side holds, labelled, with both values, for the side-by-side table."""
    keys = list(before) + [k for k in after if k not in before]
    return [
        {
            "key": key,
            "label": field_label(key, event=event),
            "before": _shown(before[key]) if key in before else None,
            "after": _shown(after[key]) if key in after else None,
            "changed": before.get(key) != after.get(key) or (key in before) != (key in after),
        }
        for key in keys
    ]


@require_GET
@member_permission_required("audit.view_operationrecord")
def record_detail(request, pk):
    record = record_for_member(request.user, pk)
    return render(
        request,
        "audit/record_detail.html",
        {
            "record": record,
            "changes": _changes(record.before, record.after, event=record.event),
            "tab": MINE if record.partner_id == request.user.partner_id else RESELLERS,
        },
    )


@require_GET
@member_permission_required("audit.view_operationrecord", "audit.export_records")
def record_export(request):
    tab = _tab(request)
    form, qs = _filtered(request, tab)
    if form.is_bound and not form.is_valid():
        messages.error(request, _("Nothing was exported: correct the filters first."))
        return redirect(f"{reverse('audit:list')}?{request.GET.urlencode()}")
    filename = f"operation-records-{timezone.now():%Y%m%d-%H%M%S}.csv"
    return records_csv_response(qs.order_by(*ORDERING), filename=filename)
