"""The yardstick for "within 2× of a bare keyset render": the same 50 rows as the customer
list, read with one keyset query and rendered by a minimal template. No sign-in, no
session, no context processors, no filters, no count, no layout."""
from django.db.models import Q
from django.http import HttpResponse
from django.template.loader import render_to_string

from customers.models import Association


def bare_keyset_page(request):
    """Newest association first, as the customer list sorts (started_at, then id)."""
    qs = Association.objects.filter(partner_id=int(request.GET["partner"]), status=Association.Status.ACTIVE)
    if request.GET.get("started"):
        started, pk = request.GET["started"], int(request.GET["id"])
        qs = qs.filter(Q(started_at__lt=started) | Q(started_at=started, id__lt=pk))
    rows = list(qs.select_related("customer").order_by("-started_at", "-id")[:50])
    return HttpResponse(render_to_string("bench/bare.html", {"rows": rows, "next": rows[-1].pk if rows else None}))
