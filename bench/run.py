"""The benchmark of issue 9: the portal's list pages against the Django admin and the database floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5433/pc_bench .venv/bin/python bench/run.py

Needs the data of ``bench/generate.py``. In one run, signed in as the distributor's System
Administrator (``bench-dist:admin``, 200,000 customers and 1,000,000 operation records), it
measures each page through the Django test client, warm, in production mode (DEBUG off):

- median and p95 server time over ``--rounds`` × ``--iterations`` requests; the rounds
  interleave the pages, so a burst of load on the machine hits every page alike;
- the number of queries of one request, and their SQL;
- the floor: that same SQL replayed through a bare psycopg connection (median of as many runs);
- the bare keyset render (``bench/views.py``): one query and a minimal template for the same
  50 rows, the yardstick for "within 2×";
- the Django admin changelist over the same associations and records, signed in as a superuser
  operator, page 1 and page 2000;
- API v1 (issue 18) with a partner token of the same member: ``GET /api/v1/customers`` page 1
  and page 2000 and ``GET /api/v1/records`` page 1 and page 2000, held against the same admin
  changelists (≤10 ms median, ≤4 queries, ≥10× the admin);
- CSV export throughput (rows/s) and memory: the peak RSS growth of this process while it
  streams the distributor's whole log, and the tracemalloc peak of a 30-day export.

Each search, filter and sort of the customer list is measured at page 1 and at its last page
(page 2000 when it has more), and held to its issue's target (``portal_targets``). Deep pages
are reached the way a user reaches them: the cursor is made by the very paginator
the page uses (captured while it serves page 1) from the row that ends page 1999, so it is
signed with the page's own salt; each deep page is checked to start where page 2000 starts.

It prints one table: each page's times, its ratio to its floor, to the bare render and to the
admin, and the issue's targets. Nothing here is timed in the test suite.
"""
import argparse
import json
import os
import re
import statistics
import sys
import time
import timeit
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

from organization.models import Partner, User  # noqa: E402
from partnercenter.pagination import KeysetPaginator  # noqa: E402

DISTRIBUTOR, MEMBER, OPERATOR = "bench-dist", "bench-dist:admin", "operator"
BENCH_CUSTOMER, PASSWORD = "bench-customer", "Demo-pass-2026!"  # as bench/generate.py makes them
DEEP_PAGE = 2000
BAD_CURSOR = b"no longer valid"


@dataclass
class Case:
    label: str
    client: Client
    url: str
    params: dict = field(default_factory=dict)
    kind: str = "portal"  # portal | api | admin | bare | export | signin (a POST answered by a redirect)
    deep: bool = False
    expect: str | None = None  # text the page must contain (the first row of a deep page)
    times: list = field(default_factory=list)
    cpu: list = field(default_factory=list)
    floor: list = field(default_factory=list)
    queries: int = 0
    sql: list = field(default_factory=list)
    rows: int = 0
    extra: dict = field(default_factory=dict)


def ms(seconds: float) -> float:
    return seconds * 1000


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def fetch(client: Client, url: str, params: dict, *, post: bool = False):
    if post:  # a sign-in: each one starts signed out, as a person's does
        client.cookies.clear()
    response = client.post(url, params) if post else client.get(url, params)
    if response.streaming:
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    return response, body


def capture_paginator(client: Client, url: str, params: dict) -> KeysetPaginator:
    """The KeysetPaginator the view builds for ``url``: its salt is the page's own."""
    made = []
    original = KeysetPaginator.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    with mock.patch.object(KeysetPaginator, "__init__", spy):
        response, _body = fetch(client, url, params)
    assert response.status_code == 200 and made, f"{url} did not paginate"
    return made[-1]


def deep_cursor(paginator: KeysetPaginator, page: int, marker) -> tuple[str, str]:
    """The "next" cursor at the end of page ``page - 1`` and a text page ``page`` must show."""
    offset = (page - 1) * paginator.page_size
    ordered = paginator.queryset.order_by(*paginator.ordering)
    before, first = ordered[offset - 1], ordered[offset]
    if paginator.row is not None:  # the page's own row objects, as the view shows them
        before, first = paginator.row(before), paginator.row(first)
    return paginator._encode(before, "next"), marker(first)


def measure(case: Case, iterations: int) -> None:
    for _ in range(iterations):
        started, cpu = time.perf_counter(), time.process_time()
        response, _body = fetch(case.client, case.url, case.params, post=case.kind == "signin")
        case.times.append(time.perf_counter() - started)
        case.cpu.append(time.process_time() - cpu)
        assert response.status_code == expected_status(case), (case.label, response.status_code)


def expected_status(case: Case) -> int:
    return 302 if case.kind == "signin" else 200


def inspect(case: Case) -> None:
    """One request with its queries captured; checks the page is the one we mean."""
    with CaptureQueriesContext(connection) as captured:
        response, body = fetch(case.client, case.url, case.params, post=case.kind == "signin")
    assert response.status_code == expected_status(case), (case.label, response.status_code)
    assert BAD_CURSOR not in body, f"{case.label}: the cursor was refused"
    if case.expect is not None:
        assert case.expect.encode() in body, f"{case.label}: page does not show {case.expect!r}"
    case.queries = len(captured.captured_queries)
    case.sql = [q["sql"] for q in captured.captured_queries]
    if case.kind == "export":
        case.rows = body.count(b"\n") - 1


def replay(case: Case, conn: psycopg.Connection, iterations: int) -> None:
    """The floor: the page's own SQL, sent by psycopg with nothing around it. Not for the
    sign-in, whose statements write (the session row would be a duplicate)."""
    if case.kind == "signin":
        return
    statements = [s for s in case.sql if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    # A server-side cursor (a form's choices are read through .iterator()): its SELECT alone,
    # as the cursor's name stays taken (WITH HOLD) after the first replay.
    statements = [re.split(r"\bCURSOR\b.*?\bFOR\b", s, maxsplit=1)[1].strip() if s.startswith("DECLARE") else s
                  for s in statements]
    for _ in range(iterations):
        started = time.perf_counter()
        for statement in statements:
            with conn.cursor() as cur:
                cur.execute(statement.encode())
                if cur.description is not None:
                    cur.fetchall()
        case.floor.append(time.perf_counter() - started)


def export_floor(case: Case, conn: psycopg.Connection) -> float:
    """Rows per second of the export's SELECT alone, read through a server-side cursor."""
    # The export's own statement: its COPY when it has one (a page's longest statement may be
    # another, e.g. the batch it exports, read with two joined tables first).
    select = next((s for s in case.sql if s.startswith("COPY")), None) or max(case.sql, key=len)
    if select.startswith("DECLARE"):
        select = re.split(r"\bCURSOR\b.*?\bFOR\b", select, maxsplit=1)[1].strip()
    started = time.perf_counter()
    rows = 0
    if select.startswith("COPY"):  # the export is the database's own CSV: its floor is that COPY
        with conn.cursor() as cur, cur.copy(select.encode()) as copy:
            for block in copy:
                rows += bytes(block).count(b"\n")
        return rows / (time.perf_counter() - started)
    with conn.transaction(), conn.cursor(name="bench_floor") as cur:
        cur.itersize = 2000
        cur.execute(select.encode())
        for _row in cur:
            rows += 1
    return rows / (time.perf_counter() - started)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def export_run(client: Client, url: str, params: dict) -> tuple[int, float, int]:
    """Stream one export; rows, seconds and the peak RSS growth while it streamed."""
    baseline = peak = rss_bytes()
    started = time.perf_counter()
    response = client.get(url, params)
    assert response.status_code == 200 and response.streaming
    rows = -1
    for n, chunk in enumerate(response.streaming_content):
        rows += chunk.count(b"\n")
        if n % 50 == 0:
            peak = max(peak, rss_bytes())
    seconds = time.perf_counter() - started
    return rows, seconds, max(peak, rss_bytes()) - baseline


def tracemalloc_peak(client: Client, url: str, params: dict) -> int:
    tracemalloc.start()
    try:
        response = client.get(url, params)
        for _chunk in response.streaming_content:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def heaviest_customer(distributor: Partner) -> int:
    """The distributor's customer with the most operation records (the top-up gives a few
    customers thousands, with ledger rows and vouchers to match)."""
    from django.db.models import Count

    from audit.models import OperationRecord

    top = (OperationRecord.objects.filter(partner=distributor, customer__isnull=False).values("customer_id")
           .annotate(n=Count("id")).order_by("-n").first())
    return top["customer_id"]


def hashing_seconds(iterations: int) -> list[float]:
    """What checking the demo password against its stored hash costs, alone: the part of the
    sign-in that is the password hasher's by design, not the page's."""
    from django.contrib.auth.hashers import check_password

    stored = User.objects.get(username=MEMBER).password
    times = []
    for _ in range(iterations):
        started = time.perf_counter()
        assert check_password(PASSWORD, stored)
        times.append(time.perf_counter() - started)
    return times


def api_cases(api: Client) -> list[Case]:
    """API v1's customer and record lists, page 1 and page 2000 (the cursor made by the
    operation's own paginator, as for the portal pages), at the portal's page size."""
    size = {"limit": settings.PARTNER_CENTER["PAGE_SIZE"]}
    customers, records = "/api/v1/customers", "/api/v1/records"
    cases = []
    for label, url, marker in (("customers", customers, lambda a: f'"account_name": "{a.customer.account_name}"'),
                               ("records", records, lambda r: f'"id": {r.pk},')):
        cursor, first = deep_cursor(capture_paginator(api, url, size), DEEP_PAGE, marker)
        cases += [
            Case(f"API {label}, page 1", api, url, size, kind="api"),
            Case(f"API {label}, page {DEEP_PAGE}", api, url, {**size, "cursor": cursor}, kind="api", deep=True,
                 expect=first),
        ]
    return cases


def controls_and_webhook_cases(member: Client, api: Client | None, distributor: Partner) -> list[Case]:
    """The webhook pages and reads (the busiest endpoint's delivery log, page 1 and page 2000),
    the batches (the 10,000-row one: its result page, its CSV and its rows through the API,
    page 1 and the last page) and the reseller-controls pages, as ``bench/generate.py`` tops
    them up. Nothing when the database has none of it yet."""
    from django.db.models import Count

    from customers.models import Association, Batch
    from webhooks.models import Endpoint

    endpoint = (Endpoint.objects.filter(partner=distributor).annotate(n=Count("deliveries")).order_by("-n").first())
    batch = Batch.objects.filter(partner=distributor).order_by("-total").first()
    cases = []
    size = {"limit": settings.PARTNER_CENTER["PAGE_SIZE"]}
    if endpoint is not None and endpoint.n > size["limit"]:
        deep = min(DEEP_PAGE, -(-endpoint.n // size["limit"]))  # page 2000, or the last of a smaller log
        detail = reverse("webhooks:detail", args=[endpoint.pk])
        cursor, first = deep_cursor(capture_paginator(member, detail, {}), deep, lambda d: d.event_id)
        cases += [
            Case("webhook endpoints", member, reverse("webhooks:list")),
            Case("webhook delivery log, page 1", member, detail),
            Case(f"webhook delivery log, page {deep}", member, detail, {"cursor": cursor}, deep=True, expect=first),
        ]
        if api is not None:
            log = f"/api/v1/webhooks/{endpoint.pk}/deliveries"
            cursor, first = deep_cursor(capture_paginator(api, log, size), deep, lambda d: f'"{d.event_id}"')
            cases += [
                Case("API webhook endpoints", api, "/api/v1/webhooks", kind="api"),
                Case("API webhook endpoint", api, f"/api/v1/webhooks/{endpoint.pk}", kind="api"),
                Case("API webhook deliveries, page 1", api, log, size, kind="api"),
                Case(f"API webhook deliveries, page {deep}", api, log, {**size, "cursor": cursor}, kind="api",
                     deep=True, expect=first),
            ]
    if batch is not None and batch.total > size["limit"]:
        last = -(-batch.total // size["limit"])
        cases += [
            Case(f"batch result, {batch.total:,} rows", member, reverse("customers:batch_detail", args=[batch.pk])),
            Case(f"batch CSV, {batch.total:,} rows", member, reverse("customers:batch_csv", args=[batch.pk]),
                 kind="export"),
        ]
        if api is not None:
            rows = f"/api/v1/batches/{batch.pk}/rows"
            cursor, first = deep_cursor(capture_paginator(api, rows, size), last,
                                        lambda r: f'"customer_id": {r.customer_id},')
            cases += [
                Case("API batch", api, f"/api/v1/batches/{batch.pk}", kind="api"),
                Case("API batch rows, page 1", api, rows, size, kind="api"),
                Case(f"API batch rows, page {last}", api, rows, {**size, "cursor": cursor}, kind="api", deep=True,
                     expect=first),
            ]
    # A reseller customer of the distributor that is frozen (a vendor freeze in the data set).
    frozen = (Association.objects.filter(partner=distributor, status="active", type="reseller",
                                         customer__frozen=True).order_by("customer_id").values_list("customer_id",
                                                                                                    flat=True).first())
    cases.append(Case("controls settings (distributor)", member, reverse("customers:controls_settings")))
    if frozen is not None:
        cases += [
            Case("controls, customer page (frozen)", member, reverse("customers:detail", args=[frozen])),
            Case("controls, budget form", member, reverse("customers:controls_budget", args=[frozen])),
            Case("controls, unfreeze form", member, reverse("customers:controls_unfreeze", args=[frozen])),
        ]
        if api is not None:
            cases.append(Case("API customer controls", api, f"/api/v1/customers/{frozen}/controls", kind="api"))
    return cases


def paged_cases(label: str, client: Client, url: str, marker, kind: str = "portal",
                params: dict | None = None) -> list[Case]:
    """Page 1 of a keyset-paged list and its page 2000, or its last page when it has fewer
    (the cursor made by the list's own paginator, as for the customer list); page 1 alone when
    the data fills one page."""
    params = params or {}
    paginator = capture_paginator(client, url, params)
    last = -(-paginator.queryset.count() // paginator.page_size)
    cases = [Case(f"{label}, page 1", client, url, params, kind=kind)]
    if last > 1:
        deep = min(DEEP_PAGE, last)
        cursor, first = deep_cursor(paginator, deep, marker)
        cases.append(Case(f"{label}, page {deep}", client, url, {**params, "cursor": cursor}, kind=kind, deep=True,
                          expect=first))
    return cases


def list_cases(member: Client, api: Client | None, customer_api: Client | None, account_center: Client | None,
               heavy: int) -> list[Case]:
    """The remaining lists (bench/README §18): the portal's vouchers, requests inbox (pending
    dissociations: its first request settles the few overdue ones, as the expiry job would),
    invitations, projects and members, the Account Center's records (the heaviest customer's);
    through the API with the same member's token the vouchers, the ledger, the invitations, the
    requests, the heaviest customer and its account check, and with a customer token for that
    customer its records."""
    size = {"limit": settings.PARTNER_CENTER["PAGE_SIZE"]}

    def by_id(row) -> str:  # an API row as its JSON shows it
        return f'"id": {row.pk},'

    cases = [
        *paged_cases("vouchers", member, reverse("customers:voucher_list"), lambda v: v.customer.account_name),
        *paged_cases("request inbox", member, reverse("customers:request_inbox"),
                     lambda r: r.customer_account_name),
        *paged_cases("invitations", member, reverse("customers:invitation_list"), lambda i: i.email),
        *paged_cases("projects", member, reverse("customers:project_list"), lambda p: p.customer.account_name),
        Case("members", member, reverse("organization:members")),
    ]
    if account_center is not None:
        cases += paged_cases("Account Center my records", account_center, reverse("account_center:records"),
                             lambda r: r.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))
    if api is not None:
        cases += [
            *paged_cases("API vouchers", api, "/api/v1/vouchers", by_id, kind="api", params=size),
            *paged_cases("API ledger", api, "/api/v1/ledger", by_id, kind="api", params=size),
            *paged_cases("API invitations", api, "/api/v1/invitations", by_id, kind="api", params=size),
            *paged_cases("API requests", api, "/api/v1/requests", by_id, kind="api", params=size),
            Case("API get customer (most records)", api, f"/api/v1/customers/{heavy}", kind="api"),
            Case("API get account check, switch", api, f"/api/v1/customers/{heavy}/checks", {"action": "switch"},
                 kind="api"),
        ]
    if customer_api is not None:
        cases += paged_cases("API my records", customer_api, "/api/v1/me/records", by_id, kind="api", params=size)
    return cases


def build_cases(member: Client, operator: Client, distributor: Partner, search_terms: list[str],
                account_center: Client | None = None, api: Client | None = None,
                manager: Client | None = None, customer_api: Client | None = None) -> list[Case]:
    customers, records = reverse("customers:list"), reverse("audit:list")
    heavy = heaviest_customer(distributor)
    admin_assoc = reverse("admin:customers_association_changelist")
    # The admin lists the same partner's rows as the page it is held against.
    assoc_rows = {"partner__id__exact": distributor.pk, "status__exact": "active"}
    record_rows = {"partner__id__exact": distributor.pk}
    admin_records = reverse("admin:audit_operationrecord_changelist")
    bare = reverse("bench_bare")
    today = datetime.now(UTC).date()
    last30 = {"date_from": (today - timedelta(days=29)).isoformat(), "date_to": today.isoformat()}

    list_paginator = capture_paginator(member, customers, {})
    list_cursor, list_first = deep_cursor(list_paginator, DEEP_PAGE, lambda a: a.customer.account_name)
    records_paginator = capture_paginator(member, records, {})
    records_cursor, records_first = deep_cursor(records_paginator, DEEP_PAGE, lambda r: f"/records/{r.pk}/")
    bare_after_started, bare_after_id = list_paginator._decode(list_cursor)[0][:2]

    cases = [
        Case("customer list, page 1", member, customers),
        Case(f"customer list, page {DEEP_PAGE}", member, customers, {"cursor": list_cursor},
             deep=True, expect=list_first),
        # Each search, filter and sort at page 1 and at its last page (page 2000 when it has more).
        *[case for label, params in (
            *[(f"search {term!r}", {"q": term}) for term in search_terms],
            ("type = reseller", {"type": "reseller"}),
            *[(f"status = {status}", {"status": status}) for status in ("frozen", "arrears", "normal")],
            *[(f"pending = {kind}", {"pending": kind}) for kind in ("any", "switch")],
            ("manager = manager1", {"manager": User.objects.get(username=f"{DISTRIBUTOR}:manager1").pk}),
            *[(f"sort = {sort}", {"sort": sort}) for sort in ("oldest", "account")],
        ) for case in paged_cases(f"customer list, {label}", member, customers, lambda a: a.customer.account_name,
                                  params=params)],
        Case("customer detail, most records", member, reverse("customers:detail", args=[heavy])),
        Case("account check, switch", member, reverse("customers:switch_check", args=[heavy])),
        Case("partner home", member, reverse("home")),
        *([Case("partner home, customer manager", manager, reverse("home"))] if manager else []),
        *([Case("Account Center home", account_center, reverse("account_center:home"))] if account_center else []),
        Case("sign-in POST", Client(), reverse("login"),
             {"partner_account": DISTRIBUTOR, "member_name": "admin", "password": PASSWORD}, kind="signin"),
        Case("records, page 1", member, records),
        Case(f"records, page {DEEP_PAGE}", member, records, {"cursor": records_cursor}, deep=True,
             expect=records_first),
        *(api_cases(api) if api else []),
        Case("records, event = funds.allocated", member, records, {"event": "funds.allocated"}),
        Case("records, last 30 days", member, records, last30),
        Case("bare keyset render, page 1", member, bare, {"partner": distributor.pk}, kind="bare"),
        Case(f"bare keyset render, page {DEEP_PAGE}", member, bare,
             {"partner": distributor.pk, "started": str(bare_after_started), "id": bare_after_id},
             kind="bare", deep=True),
        Case("admin associations, page 1", operator, admin_assoc, assoc_rows, kind="admin"),
        Case(f"admin associations, ?p={DEEP_PAGE}", operator, admin_assoc, {**assoc_rows, "p": DEEP_PAGE},
             kind="admin", deep=True),
        Case("admin records, page 1", operator, admin_records, record_rows, kind="admin"),
        Case(f"admin records, ?p={DEEP_PAGE}", operator, admin_records, {**record_rows, "p": DEEP_PAGE},
             kind="admin", deep=True),
    ]
    cases += controls_and_webhook_cases(member, api, distributor)
    cases += list_cases(member, api, customer_api, account_center, heavy)
    cases.append(Case("records CSV, last 30 days", member, reverse("audit:export"), last30, kind="export"))
    try:
        cases.append(Case("customer CSV, type = reseller", member, reverse("customers:export"), {"type": "reseller"},
                          kind="export"))
    except NoReverseMatch:
        pass
    return cases


def comparator(case: Case, by_label: dict[str, Case]) -> tuple[Case | None, Case | None]:
    """The bare render and the admin page a portal (or API) page is held against."""
    if case.kind == "api":
        if case.url not in ("/api/v1/customers", "/api/v1/records"):
            return None, None
        model = "associations" if case.url == "/api/v1/customers" else "records"
        return None, by_label.get(f"admin {model}, ?p={DEEP_PAGE}" if case.deep else f"admin {model}, page 1")
    if case.url not in (reverse("customers:list"), reverse("audit:list")):
        return None, None
    suffix = f"page {DEEP_PAGE}" if case.deep else "page 1"
    bare = by_label.get(f"bare keyset render, {suffix}") if case.url == reverse("customers:list") else None
    model = "associations" if case.url == reverse("customers:list") else "records"
    admin = by_label.get(f"admin {model}, ?p={DEEP_PAGE}" if case.deep else f"admin {model}, page 1")
    return bare, admin


def portal_targets(case: Case) -> tuple[int, float]:
    """A portal page's median target (ms) and its bound on the bare render's ratio: the partner
    home 50 ms (issue 21); a search 30 ms, a filter or sort 15 ms (issue 17); a list page
    unfiltered 12 ms (issue 16) and within 1.3× the bare render of the same rows (issue 17,
    stricter than issue 16's 1.5×); any other page 15 ms (issue 17: detail, account check,
    Account Center). Searches, filters and sorts are held to 2× the bare render (issue 9)."""
    label = case.label
    if "home" in label and "Account Center" not in label:
        return 50, 2
    if "search" in label:
        return 30, 2
    if " = " in label:
        return 15, 2
    if re.search(r", page \d+$", label):
        return 12, 1.3
    return 15, 2


def report(cases: list[Case], exports: list[dict], meta: dict) -> str:
    by_label = {c.label: c for c in cases}
    head = (f"{'page':<40} {'median':>7} {'p95':>7} {'cpu':>6} {'queries':>7} {'floor':>6} {'×floor':>6} "
            f"{'×bare':>5} {'admin÷':>7}  targets")
    lines = [head, "-" * len(head)]
    for case in cases:
        if case.kind == "export":
            continue
        med = ms(median(case.times))
        floor = ms(median(case.floor))
        bare, admin = comparator(case, by_label) if case.kind in ("portal", "api") else (None, None)
        floor = floor if case.floor else float("nan")
        x_bare = med / ms(median(bare.times)) if bare else None
        speedup = ms(median(admin.times)) / med if admin else None
        verdict = []
        if case.kind == "signin":
            hashing = ms(median(case.extra.get("hashing", [])))
            verdict.append(f"hashing {hashing:.1f}ms, the rest {med - hashing:.1f}ms")
            verdict.append(f"≤10q {'ok' if case.queries <= 10 else 'MISS'}")
        if case.kind == "api":
            verdict.append(f"≤10ms {'ok' if med <= 10 else 'MISS'}")
            verdict.append(f"≤4q {'ok' if case.queries <= 4 else 'MISS'}")
            if admin:
                verdict.append(f"≥10× admin {'ok' if speedup >= 10 else 'MISS'}")
        if case.kind == "portal":
            limit, ratio = portal_targets(case)
            verdict.append(f"≤{limit}ms {'ok' if med <= limit else 'MISS'}")
            if "home" not in case.label or "Account Center" in case.label:
                verdict.append(f"≤6q {'ok' if case.queries <= 6 else 'MISS'}")
            if admin:
                need = 40 if case.deep else 10
                verdict.append(f"≥{need}× admin {'ok' if speedup >= need else 'MISS'}")
            if bare:
                verdict.append(f"≤{ratio}× bare {'ok' if x_bare <= ratio else 'MISS'}")
        lines.append(
            f"{case.label:<40} {med:7.1f} {ms(p95(case.times)):7.1f} {ms(median(case.cpu)):6.1f} {case.queries:7d} "
            f"{floor:6.1f} {med / floor:6.1f} {'' if x_bare is None else f'{x_bare:5.2f}':>5} "
            f"{'' if speedup is None else f'{speedup:6.1f}×':>7}  {', '.join(verdict)}"
        )
    lines.append("")
    head = f"{'export':<40} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'floor rows/s':>12} {'memory':>22}  target"
    lines += [head, "-" * len(head)]
    for e in exports:
        rate = e["rows"] / e["seconds"]
        lines.append(
            f"{e['label']:<40} {e['rows']:9,d} {e['seconds']:8.2f} {rate:9,.0f} {e['floor']:12,.0f} "
            f"{e['memory']:>22}  ≥100,000 rows/s {'ok' if rate >= 100_000 else 'MISS'}"
        )
    lines.append("")
    lines.append(
        "median/p95: ms of server time through the Django test client (DEBUG off, warm); cpu: median ms of CPU "
        "this Django process spent on the request (the rest is the database and waiting for a CPU); floor: ms of "
        "the same SQL replayed by psycopg; ×floor and ×bare: page ÷ floor and page ÷ bare keyset render; admin÷: "
        "how many times faster than the admin changelist (page 1, or ?p=2000 for deep pages)."
    )
    lines.append(" ".join(f"{k}={v}" for k, v in meta.items()))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=15, help="timed requests per page and round (15)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over all pages (3)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page first (3)")
    parser.add_argument("--search", action="append", help="search term (repeatable)")
    parser.add_argument("--full-export", action=argparse.BooleanOptionalAction, default=True,
                        help="also stream the distributor's whole log once (1M rows)")
    parser.add_argument("--only", help="measure only the pages whose label contains one of these (comma-separated)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        parser.error("run against the PostgreSQL database bench/generate.py loaded (DATABASE_URL=postgres://…)")

    distributor = Partner.objects.get(account_name=DISTRIBUTOR)
    member, operator = Client(), Client()
    member.force_login(User.objects.get(username=MEMBER))
    operator.force_login(User.objects.get(username=OPERATOR))
    terms = args.search or ["lianke", "sofia.zhao", "red maple media", "q", "qz", "li", "王", "华为", "科技"]
    account_center = None
    if (customer_user := User.objects.filter(username=BENCH_CUSTOMER).first()) is not None:
        account_center = Client()
        account_center.force_login(customer_user)
    manager = None
    if (manager_user := User.objects.filter(username=f"{DISTRIBUTOR}:manager1").first()) is not None:
        manager = Client()
        manager.force_login(manager_user)
    from api.models import ApiToken
    from api.services import partner_token_create

    token, raw = partner_token_create(member=User.objects.get(username=MEMBER))
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    tokens = [token.pk]
    customer_api = None
    if customer_user is not None:
        # A read-only customer token for the bench customer, issued as the exchange issues it
        # but not through api.services.customer_token_create: the exchange writes an operation record (and a
        # webhook delivery), which the bench must not leave behind on every run.
        from api.services import _token_issue

        customer_token, customer_raw = _token_issue(
            kind=ApiToken.Kind.CUSTOMER, member=token.member, api_key=None, customer=customer_user.customer,
            role=ApiToken.Role.READONLY, ttl=settings.PARTNER_CENTER["CUSTOMER_TOKEN_TTL_SECONDS"])
        tokens.append(customer_token.pk)
        customer_api = Client(HTTP_AUTHORIZATION=f"Bearer {customer_raw}")
    try:
        return run(args, distributor, member, operator, terms, account_center, api, manager, customer_api)
    finally:
        ApiToken.objects.filter(pk__in=tokens).delete()  # the bench leaves no credential behind


def run(args, distributor, member, operator, terms, account_center, api, manager, customer_api=None) -> int:
    cases = build_cases(member, operator, distributor, terms, account_center, api, manager, customer_api)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",")]
        cases = [c for c in cases if any(w in c.label for w in wanted)]
    pages = [c for c in cases if c.kind != "export"]
    for case in cases:
        for _ in range(args.warmup):
            fetch(case.client, case.url, case.params)
        inspect(case)
    print(f"warmed up {len(cases)} pages; measuring {args.rounds}×{args.iterations} requests each", flush=True)

    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or None, user=db["USER"], password=db["PASSWORD"] or None,
                         dbname=db["NAME"], autocommit=True, options=db["OPTIONS"].get("options")) as conn:
        for case in pages:
            replay(case, conn, args.warmup)
            case.floor.clear()
        for round_no in range(args.rounds):
            for case in pages:
                measure(case, args.iterations)
                replay(case, conn, args.iterations)
            print(f"round {round_no + 1}/{args.rounds} done", flush=True)
        for case in (c for c in pages if c.kind == "signin"):
            case.extra["hashing"] = hashing_seconds(args.rounds * args.iterations)

        exports = []
        for case in (c for c in cases if c.kind == "export"):
            runs = [export_run(case.client, case.url, case.params) for _ in range(3)]
            rows, seconds, _growth = sorted(runs, key=lambda r: r[1])[1]
            peak = tracemalloc_peak(case.client, case.url, case.params)
            exports.append({"label": case.label, "rows": rows, "seconds": seconds, "floor": export_floor(case, conn),
                            "memory": f"tracemalloc {peak / 2**20:.1f} MiB"})
        if args.full_export:
            case = Case("records CSV, whole log (1M rows)", member, reverse("audit:export"), kind="export")
            inspect(case)
            rows, seconds, growth = export_run(member, case.url, {})
            exports.append({"label": case.label, "rows": rows, "seconds": seconds, "floor": export_floor(case, conn),
                            "memory": f"RSS +{growth / 2**20:.1f} MiB"})

        server = conn.execute("SELECT current_setting('server_version'), current_setting('shared_buffers'), "
                              "current_setting('jit'), current_setting('max_parallel_workers_per_gather')").fetchone()
    load = os.getloadavg()
    # How slow plain Python is right now (an idle modern core: about 10 µs).
    calibration = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    meta = {
        "postgres": server[0], "shared_buffers": server[1], "jit": server[2], "parallel_per_gather": server[3],
        "samples": args.rounds * args.iterations, "loadavg": f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}",
        "cpus": os.cpu_count(), "sum(range(1000))": f"{calibration:.0f}µs",
    }
    text = report(cases, exports, meta)
    print()
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "meta": meta,
            "pages": [{"label": c.label, "median_ms": ms(median(c.times)), "p95_ms": ms(p95(c.times)),
                       "queries": c.queries, "floor_ms": ms(median(c.floor)), "sql": c.sql} for c in pages],
            "exports": exports,
        }, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
