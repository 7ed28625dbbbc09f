"""The load run of issue 9: gunicorn under wrk on loopback, then PostgreSQL restarted mid-run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5433/pc_bench .venv/bin/python bench/load.py

Needs the data of ``bench/generate.py``, ``wrk`` (``apt-get install -y wrk``) and root (or the
postgres user) for ``pg_ctlcluster``. Bounded in time: about 20 s per page plus 40 s for the
restart, and everything it starts is stopped at the end.

1. Starts gunicorn as ``gunicorn.conf.py`` configures it (threaded workers with keep-alive)
   with ``--workers 4``, production settings (``bench.settings``), on 127.0.0.1.
2. Signs in the distributor's System Administrator and an operator (real sessions in the
   database) and runs ``wrk -t2 -c8 -d20s`` with the session cookie against the customer list
   (page 1 and page 2000), the records page, the bare keyset render and the admin changelist.
   A Lua script counts every response by status, so a redirect to the sign-in page or an error
   page counts as an error, not as a request served.
3. Runs wrk again on the customer list and restarts the PostgreSQL cluster that serves
   ``DATABASE_URL`` in the middle (``pg_ctlcluster --skip-systemctl-redirect <ver> <cluster>
   restart``). Errors must fall inside the restart window only, and the same workers must
   serve 200s again after it (``CONN_HEALTH_CHECKS`` lets each worker notice its dead
   connection and open a new one); the script compares the worker pids before and after.

The restart takes down every database of that cluster, so the script refuses to restart one
that other databases are using (use a cluster of its own for the benchmark; ``--force``
overrides).
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.run import capture_paginator, deep_cursor  # noqa: E402
from organization.models import User  # noqa: E402

HOST, PORT = "127.0.0.1", 8765
DEEP_PAGE = 2000

# Per-second counts of 200 and non-200 responses, per wrk thread; done() merges them.
LUA = r"""
ok, bad = {}, {}  -- globals: done() reads them with thread:get()
function response(status, headers, body)
  local s = os.time()
  if status == 200 then ok[s] = (ok[s] or 0) + 1 else bad[s] = (bad[s] or 0) + 1 end
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local lines = {}
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("ok")) do table.insert(lines, "ok " .. s .. " " .. n) end
    for s, n in pairs(t:get("bad")) do table.insert(lines, "bad " .. s .. " " .. n) end
  end
  io.write("TIMELINE\n" .. table.concat(lines, "\n") .. "\nEND\n")
  io.write(string.format("LATENCY p50=%.1f p99=%.1f\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def session_cookie(username: str) -> str:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def deep_list_cursor(username: str) -> str:
    """The customer list's own cursor to page 2000, made as bench/run.py makes it."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    paginator = capture_paginator(client, reverse("customers:list"), {})
    return deep_cursor(paginator, DEEP_PAGE, lambda row: None)[0]


def cluster_for_port(port: int) -> tuple[str, str]:
    for line in subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        version, name, cluster_port = line.split()[:3]
        if int(cluster_port) == port:
            return version, name
    raise SystemExit(f"no local PostgreSQL cluster listens on port {port}")


def other_databases_in_use(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT DISTINCT datname FROM pg_stat_activity WHERE datname IS NOT NULL AND datname <> current_database() "
        "AND datname <> 'postgres'"
    ).fetchall()]


def wait_until_up(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=10):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer {url} within {seconds}s")


def worker_pids(master: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def connection_spread(port: int) -> str:
    """How the client connections to ``port`` sit on the gunicorn workers right now, most
    loaded worker first ("4+3+1": three workers hold them, one holds four), from ``ss``.
    A kept-alive connection stays with the worker that accepted it, and gunicorn does not
    choose which worker accepts, so this varies from run to run and moves the throughput."""
    try:
        out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    per_worker = {}
    for pid in re.findall(r"pid=(\d+)", out):
        per_worker[pid] = per_worker.get(pid, 0) + 1
    return "+".join(str(n) for n in sorted(per_worker.values(), reverse=True)) or "?"


def wrk(url: str, cookie: str, seconds: int, lua: str) -> dict:
    spread = {}
    # Halfway through the run, every connection of wrk has been accepted by some worker.
    sampler = threading.Timer(seconds / 2, lambda: spread.update(at_half=connection_spread(PORT)))
    sampler.start()
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{seconds}s", "--timeout", "10s", "-s", lua, "-H", f"Cookie: {cookie}", url],
        capture_output=True, text=True, timeout=seconds + 60,
    ).stdout
    sampler.join()
    ok, bad = {}, {}
    timeline = out.split("TIMELINE\n", 1)[1].split("END\n", 1)[0] if "TIMELINE" in out else ""
    for line in timeline.splitlines():
        kind, second, n = line.split()
        target = ok if kind == "ok" else bad
        target[int(second)] = target.get(int(second), 0) + int(n)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    latency = re.search(r"LATENCY p50=([\d.]+) p99=([\d.]+)", out)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "ok": ok, "bad": bad,
        "served": sum(ok.values()), "errors": sum(bad.values()),
        "socket_errors": sum(map(int, socket.groups())) if socket else 0,
        "ok_rps": sum(ok.values()) / seconds,
        "p50": float(latency.group(1)) if latency else 0.0, "p99": float(latency.group(2)) if latency else 0.0,
        "raw": out,
        "spread": spread.get("at_half", "?"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds of wrk per page (20)")
    parser.add_argument("--restart-duration", type=int, default=40, help="seconds of the restart run (40)")
    parser.add_argument("--restart-at", type=int, default=12, help="restart PostgreSQL after this many seconds (12)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--force", action="store_true", help="restart even if other databases use the cluster")
    parser.add_argument("--no-restart", action="store_true", help="only the throughput runs")
    args = parser.parse_args()
    db = settings.DATABASES["default"]
    if connection_vendor() != "postgresql":
        parser.error("run against the PostgreSQL database bench/generate.py loaded (DATABASE_URL=postgres://…)")
    if not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install -y wrk)")

    version, cluster = cluster_for_port(int(db["PORT"] or 5432))
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or None, user=db["USER"], dbname=db["NAME"],
                         autocommit=True) as conn:
        in_use = other_databases_in_use(conn)
    if not args.no_restart and in_use and not args.force:
        raise SystemExit(f"cluster {version}/{cluster} also serves {', '.join(in_use)}: restarting it would break "
                         "them. Use a cluster of its own for the benchmark, or --force.")

    member = session_cookie("bench-dist:admin")
    operator = session_cookie("operator")
    cursor = deep_list_cursor("bench-dist:admin")
    base = f"http://{HOST}:{PORT}"
    cookie_name = settings.SESSION_COOKIE_NAME
    pages = [
        ("customer list, page 1", f"{base}{reverse('customers:list')}", member),
        (f"customer list, page {DEEP_PAGE}", f"{base}{reverse('customers:list')}?{urlencode({'cursor': cursor})}",
         member),
        ("records, page 1", f"{base}{reverse('audit:list')}", member),
        ("bare keyset render, page 1", f"{base}{reverse('bench_bare')}?partner=1", member),
        ("admin associations, page 1", f"{base}{reverse('admin:customers_association_changelist')}", operator),
    ]

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    gunicorn = subprocess.Popen(
        [str(BASE_DIR / ".venv" / "bin" / "gunicorn"), "partnercenter.wsgi:application", "-c", "gunicorn.conf.py",
         "--bind", f"{HOST}:{PORT}", "--workers", str(args.workers), "--log-level", "warning", "--error-logfile", "-"],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=open(tempfile.mktemp(suffix=".gunicorn.log"), "w"),
    )
    results = []
    try:
        wait_until_up(f"{base}/accounts/login/")
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(LUA)
        for _label, url, session in pages:  # every worker imports and connects before we count
            wrk(url, f"{cookie_name}={session}", 3, script.name)
        for label, url, session in pages:
            result = wrk(url, f"{cookie_name}={session}", args.duration, script.name)
            results.append((label, result))
            print(f"{label:<32} {result['ok_rps']:7.1f} req/s (200s)  p50 {result['p50']:6.1f} ms  "
                  f"p99 {result['p99']:6.1f} ms  errors {result['errors'] + result['socket_errors']}  "
                  f"connections per worker {result['spread']}", flush=True)

        restart = None
        if not args.no_restart:
            before = worker_pids(gunicorn.pid)
            label, url, session = pages[0]
            outcome = {}

            def run_wrk():
                outcome.update(wrk(url, f"{cookie_name}={session}", args.restart_duration, script.name))

            thread = threading.Thread(target=run_wrk)
            thread.start()
            time.sleep(args.restart_at)
            down = time.time()
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "restart"], check=True)
            up = time.time()
            thread.join()
            after = worker_pids(gunicorn.pid)
            restart = summarise_restart(outcome, down, up, before, after)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(timeout=20)
        except subprocess.TimeoutExpired:
            gunicorn.kill()

    print()
    print(report(results, restart, args, f"{version}/{cluster}"))
    return 0 if restart is None or restart["ok"] else 1


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


def summarise_restart(outcome: dict, down: float, up: float, before: set, after: set) -> dict:
    ok, bad = outcome["ok"], outcome["bad"]
    seconds = sorted(set(ok) | set(bad))
    window = (int(down), int(up) + 1)  # whole seconds touched by the restart, plus the one after it
    outside = {s: n for s, n in bad.items() if not window[0] <= s <= window[1]}
    inside = sum(n for s, n in bad.items() if window[0] <= s <= window[1])
    after_restart = [s for s in seconds if s > window[1]]
    recovered = next((s for s in seconds if s >= int(up) and ok.get(s, 0) and not bad.get(s, 0)), None)
    pre = [ok.get(s, 0) for s in seconds if s < window[0] - 1][1:]  # drop the ramp-up second
    post = [ok.get(s, 0) for s in after_restart][:-1]  # drop the partial last second
    result = {
        "restart_seconds": up - down,
        "errors_inside": inside,
        "errors_outside": sum(outside.values()),
        "socket_errors": outcome["socket_errors"],
        "recovered_after": None if recovered is None else max(0.0, recovered - up),
        "rps_before": sum(pre) / len(pre) if pre else 0.0,
        "rps_after": sum(post) / len(post) if post else 0.0,
        "same_workers": before == after and bool(before),
        "timeline": [(s - int(down), ok.get(s, 0), bad.get(s, 0)) for s in seconds],
    }
    result["ok"] = (
        bool(pre) and result["errors_outside"] == 0 and result["socket_errors"] == 0 and result["same_workers"]
        and result["rps_after"] >= 0.8 * result["rps_before"]
    )
    return result


def report(results, restart, args, cluster: str) -> str:
    title = f"page (wrk -t2 -c8 -d{args.duration}s)"
    head = f"{title:<34} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}  {'per worker':<10}"
    lines = [head, "-" * len(head)]
    for label, r in results:
        lines.append(f"{label:<34} {r['ok_rps']:8.1f} {r['p50']:7.1f} {r['p99']:7.1f} "
                     f"{r['errors'] + r['socket_errors']:7d}  {r['spread']:<10}")
    lines.append(f"gunicorn -c gunicorn.conf.py --workers {args.workers} on {HOST}:{PORT}; "
                 f"req/s counts 200 responses only; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    lines.append("per worker: wrk's 8 kept-alive connections on the workers halfway through the run, most "
                 "loaded first (8 = all on one worker, which then serves on one CPU)")
    if restart:
        lines += ["", f"PostgreSQL {cluster} restarted {args.restart_at}s into a {args.restart_duration}s run "
                      f"on the customer list (took {restart['restart_seconds']:.1f}s):"]
        lines.append("  second  200s  errors   (0 = the second the restart began)")
        for second, n_ok, n_bad in restart["timeline"]:
            lines.append(f"  {second:+6d} {n_ok:5d} {n_bad:7d}")
        lines.append(
            f"  errors inside the restart window: {restart['errors_inside']}; outside it: "
            f"{restart['errors_outside']}; socket errors: {restart['socket_errors']}"
        )
        recovered = restart["recovered_after"]
        lines.append(
            f"  all 200s again {recovered:.1f}s after PostgreSQL was back; " if recovered is not None
            else "  never recovered; "
        )
        lines[-1] += (f"{restart['rps_before']:.0f} req/s before, {restart['rps_after']:.0f} after; "
                      f"same gunicorn workers: {'yes' if restart['same_workers'] else 'NO'}")
        lines.append(f"  {'PASS' if restart['ok'] else 'FAIL'}: errors only during the restart, full recovery "
                     "without restarting the workers")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
