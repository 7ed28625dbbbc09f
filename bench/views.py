"""The yardstick for "within 2× of a bare keyset render": the same 50 rows as the customer
list, read with one keyset query and rendered by a minimal template. No sign-in, no
session, no context processors, no filters, no count, no layout."""
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.http import HttpResponse
from django.template.loader import render_to_string

from customers.models import Association


def bare_keyset_page(request):
    """Newest association first, as the customer list sorts (started_at, then id)."""
    qs = Association.objects.filter(partner_id=int(request.GET["partner"]), status=Association.Status.ACTIVE)
    if request.GET.get("started"):
        started, pk = request.GET["started"], int(request.GET["id"])
        # One row-value comparison, as the portal's keyset paginator writes it: the index
        # range itself (an OR of the two conditions is a filter over every row before it).
        qs = qs.filter(TupleLessThan(Tuple("started_at", "id"), (started, pk)))
    rows = list(qs.select_related("customer").order_by("-started_at", "-id")[:50])
    return HttpResponse(render_to_string("bench/bare.html", {"rows": rows, "next": rows[-1].pk if rows else None}))
