"""A 10,000-customer batch (monthly budget set) on PostgreSQL, issue 20:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME python bench/batch.py [ROWS]

Migrates the database, loads (once) a partner with ROWS reseller customers (default 10,000),
then creates one budget batch over all of them and runs it as the worker does
(``batch_run``: each row its own transaction, with its history row, operation record and
outcome). Prints the time, rows per second, the outcome counts, the process's resident memory
before and after (the rows are read 200 at a time, so it stays flat) and the machine's load."""
import os
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from customers.controls import batches  # noqa: E402
from customers.models import Association, BatchRow, Customer  # noqa: E402
from organization.models import Partner  # noqa: E402
from partnercenter import factories as f  # noqa: E402

PARTNER = "bench-batch"
# As the worker's task runs it (PC_BATCH_WORKERS); 1: one row after another.
WORKERS = int(os.environ.get("PC_BATCH_WORKERS", "4"))
PROCESSES = os.environ.get("PC_BATCH_PROCESSES", "false").lower() in ("1", "true", "yes", "on")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(rows: int):
    partner = Partner.objects.filter(account_name=PARTNER).first()
    if partner is None:
        partner = f.PartnerFactory(account_name=PARTNER, name="Bench Batch Partner")
        f.MemberFactory(partner=partner, member_name="admin", roles=["system_admin"], is_partner_admin=True)
    have = Association.objects.filter(partner=partner, status="active").count()
    if have < rows:
        with transaction.atomic():
            made = Customer.objects.bulk_create(
                [Customer(account_name=f"bb-{partner.pk}-{i:06d}", name=f"Bench Customer {i}",
                          email=f"bb{i}@bench.example.com") for i in range(have, rows)],
                batch_size=2000,
            )
            Association.objects.bulk_create(
                [Association(partner=partner, customer=c, type="reseller", origin="api") for c in made],
                batch_size=2000,
            )
    admin = partner.members.get(member_name="admin")
    ids = list(Association.objects.filter(partner=partner, status="active").order_by("customer_id")
               .values_list("customer_id", flat=True)[:rows])
    return admin, ids


def main(rows: int) -> None:
    assert connection.vendor == "postgresql", "run it on PostgreSQL (DATABASE_URL)"
    call_command("migrate", verbosity=0)
    admin, ids = load(rows)
    # A budget no row has yet, so every row changes.
    amount = Decimal(1000 + int(time.time()) % 100000) + Decimal("0.25")
    before = rss_mb()
    start = time.perf_counter()
    batch = batches.batch_create(actor=admin, action="budget", customer_ids=ids, amount=amount, reason="bench")
    created = time.perf_counter() - start
    batches.batch_run(batch_id=batch.pk, workers=WORKERS, processes=PROCESSES)
    elapsed = time.perf_counter() - start
    after = rss_mb()
    counts = dict(BatchRow.objects.filter(batch=batch).values_list("outcome").annotate(n=django.db.models.Count("id")))
    load1, load5, _load15 = os.getloadavg()
    print(f"rows: {len(ids)}  outcomes: {counts}")
    print(f"created in {created:.2f} s; whole batch {elapsed:.1f} s = {len(ids) / elapsed:.0f} rows/s")
    print(f"resident memory: {before:.0f} MB before, {after:.0f} MB after")
    print(f"workers: {WORKERS} {'processes' if PROCESSES else 'threads'}")
    print(f"load average: {load1:.2f} (1 min), {load5:.2f} (5 min) on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
