"""Webhook deliveries on loopback with real workers (issue 19):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_webhooks python bench/webhooks.py \
        [--events 2000] [--workers 2] [--latency-events 200] [--rate 10]

The database is created and migrated when missing. A receiver (tests/webhook_receiver.py, an
``http.server`` thread answering 200) listens on 127.0.0.1; one endpoint of a bench partner
wants every event.

1. Throughput: ``--events`` operation records are written in one transaction (the queue backed
   up), then ``--workers`` ``manage.py run_worker`` processes start; deliveries per second is
   the events divided by the time from the first arrival to the last.
2. Latency: with the workers idle, ``--latency-events`` records are written one transaction
   each, ``--rate`` per second; for each, the time from its commit to its arrival at the
   receiver. Median and 99th percentile are printed.

The machine's load average is printed before and after: the figures depend on it."""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnercenter.settings")
os.environ.setdefault("TASKS_BACKEND", "database")
os.environ.setdefault("WEBHOOKS_ALLOW_HTTP", "true")
os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE", "true")


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency-events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database of the bench's own.")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from audit.events import Event
    from audit.services import record
    from customers.models import Association
    from partnercenter import factories as f
    from tests.webhook_receiver import Receiver
    from webhooks import services
    from webhooks.models import Delivery, Endpoint

    call_command("migrate", verbosity=0)
    print(f"load average before: {load()} ({os.cpu_count()} CPUs)")
    partner = f.PartnerFactory(account_name="bench-webhooks", name="Bench Webhooks")
    admin = f.MemberFactory(partner=partner, member_name="bench-admin", roles=["system_admin"], is_partner_admin=True)
    customer = Association.objects.filter(partner=partner).select_related("customer").first()
    customer = customer.customer if customer else None
    if customer is None:
        customer = f.CustomerWithUserFactory(account_name="bench-webhooks-cust", name="Bench customer")
        f.AssociationFactory(partner=partner, customer=customer, type=Association.Type.RESELLER)
    Delivery.objects.filter(endpoint__partner=partner).delete()
    Endpoint.objects.filter(partner=partner).delete()
    DBTaskResult.objects.all().delete()

    env = {**os.environ, "DATABASE_URL": url}
    env.pop("CACHE_URL", None)

    def start_workers():
        return [subprocess.Popen([sys.executable, "manage.py", "run_worker", "--no-reload", "--no-startup-delay",
                                  "--interval", "0.05", "-v0"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
                for _ in range(args.workers)]

    def stop(workers):
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()

    with Receiver() as receiver:
        endpoint, _secret = services.endpoint_create(actor=admin, url=receiver.url)
        # The endpoint's own webhook.created goes first, with the workers' start-up.
        workers = start_workers()
        try:
            wait(lambda: len(receiver.requests) >= 1, 60)
            receiver.requests.clear()

            # 1. Throughput, the queue backed up (workers paused: SIGSTOP while writing).
            for worker in workers:
                worker.send_signal(signal.SIGSTOP)
            started = time.monotonic()
            with transaction.atomic():
                for i in range(args.events):
                    record(event=Event.CUSTOMER_FACTS_UPDATED, partner=partner, customer=customer, after={"n": i})
            written = time.monotonic() - started
            cpu_before = sum(cpu_seconds(w.pid) for w in workers)
            receiver_before = time.process_time()
            for worker in workers:
                worker.send_signal(signal.SIGCONT)
            wait(lambda: len(set(receiver.ids())) >= args.events, 600)
            worker_cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu_before
            receiver_cpu = time.process_time() - receiver_before
            arrivals = sorted(r["at"] for r in receiver.requests)
            span = arrivals[-1] - arrivals[0]
            rate = (args.events - 1) / span if span else float("inf")
            print(f"throughput: {args.events} events written in {written:.1f} s "
                  f"({args.events / written:.0f} records/s with their deliveries and tasks); "
                  f"delivered in {span:.1f} s by {args.workers} workers: {rate:.0f} deliveries/s")
            print(f"CPU per delivery: workers {worker_cpu / args.events * 1000:.1f} ms, receiver "
                  f"{receiver_cpu / args.events * 1000:.1f} ms (PostgreSQL's own not counted); the workers "
                  f"were on a CPU {worker_cpu / span / args.workers:.0%} of the time each")
            print(f"load average after the throughput run: {load()}")

            # 2. Commit → arrival, the queue not backed up.
            receiver.requests.clear()
            committed = {}
            for i in range(args.latency_events):
                with transaction.atomic():
                    rec = record(event=Event.CUSTOMER_FACTS_UPDATED, partner=partner, customer=customer,
                                 after={"latency": i})
                committed[Delivery.objects.get(record=rec).event_id] = time.time()
                time.sleep(1 / args.rate)
            wait(lambda: len(set(receiver.ids())) >= args.latency_events, 120)
            first = {}
            for request in receiver.requests:
                first.setdefault(request["headers"]["webhook-id"], request["at"])
            latencies = sorted(first[event_id] - at for event_id, at in committed.items())
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(f"commit → delivery over {len(latencies)} events at {args.rate:g}/s: "
                  f"median {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
                  f"max {latencies[-1] * 1000:.0f} ms")
        finally:
            stop(workers)
    print(f"load average after: {load()}")


def wait(condition, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.02)
    raise SystemExit("timed out")


if __name__ == "__main__":
    main()
