"""The proof of issue 19 for webhooks, with real worker processes (``manage.py run_worker``) on
PostgreSQL and a real receiver on loopback (tests/webhook_receiver.py):

- a worker SIGKILLed in the middle of 1,000 events, then started again: every event arrives at
  least once, and a repeat carries the webhook-id (and body) of its first delivery;
- the receiver down for a while, then up: every event arrives, signed, through the retries.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction
from standardwebhooks.webhooks import Webhook

from audit.events import Event
from audit.services import record
from notifications.queue import sweep
from tests.webhook_receiver import Receiver, free_port
from webhooks import services
from webhooks.delivery import BATCH
from webhooks.models import Delivery

ROOT = Path(__file__).resolve().parent.parent
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def worker_env(**extra):
    database = connection.settings_dict
    env = {**os.environ, "DEBUG": "true", "TASKS_BACKEND": "database", "WEBHOOKS_ALLOW_PRIVATE": "true",
           "WEBHOOKS_ALLOW_HTTP": "true",
           "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"}
    env.pop("CACHE_URL", None)
    env.update(extra)
    return env


def start_worker(env, *options):
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1", "-v0",
         *options],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def stop(worker):
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def wait_until(condition, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def events(partner, customer, n):
    started = time.monotonic()
    with transaction.atomic():
        for i in range(n):
            record(event=Event.CUSTOMER_FACTS_UPDATED, partner=partner, customer=customer,
                   after={"n": i})
    print(f"{n} events written in {time.monotonic() - started:.1f} s")


def test_a_worker_killed_in_the_middle_of_1000_events_loses_none(settings, admin_member, partner, customer):
    settings.TASKS = DATABASE_TASKS
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "TASK_STALE_SECONDS": 2}
    env = worker_env(PC_TASK_STALE_SECONDS="2")
    with Receiver() as receiver:
        endpoint, secret = services.endpoint_create(actor=admin_member, url=receiver.url)
        events(partner, customer, 1000)
        expected = set(Delivery.objects.filter(endpoint=endpoint).values_list("event_id", flat=True))
        assert len(expected) == 1001  # the 1,000 and the endpoint's own webhook.created
        worker = start_worker(env)
        try:
            wait_until(lambda: len(receiver.requests) >= 300 or worker.poll() is not None, 60,
                       "the worker to be in the middle")
            assert worker.poll() is None, worker.stderr.read().decode()
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        got_before = len(receiver.requests)
        assert got_before < 1001, "killed in the middle"
        time.sleep(2.1)  # the killed worker's claim goes stale
        swept = sweep()
        # The task in flight, and the rows of its batch: the other queued rows wait for the
        # deliver_webhooks task the batch had enqueued.
        assert swept["lost_task_results"] <= 1 and swept["requeued_deliveries"] <= BATCH
        restarted = [start_worker(env, "--batch") for _ in range(2)]
        try:
            for worker in restarted:
                assert worker.wait(timeout=180) == 0, worker.stderr.read().decode()
        finally:
            for worker in restarted:
                stop(worker)
        ids = receiver.ids()
        bodies = {}
        for request in receiver.requests:
            Webhook(secret).verify(request["body"], request["headers"])
            bodies.setdefault(request["headers"]["webhook-id"], set()).add(request["body"])
    assert set(ids) == expected  # every event at least once, nothing else
    assert all(len(b) == 1 for b in bodies.values())  # a repeat is the same event: same id, same body
    # At most the batch in flight when the worker was killed (sent, its outcomes not yet written).
    assert len(ids) - len(expected) <= BATCH
    assert set(Delivery.objects.filter(endpoint=endpoint).values_list("status", flat=True)) == {"delivered"}


def test_a_receiver_down_for_a_while_gets_every_event_when_it_is_back(settings, admin_member, partner, customer):
    settings.TASKS = DATABASE_TASKS
    port = free_port()
    env = worker_env(PC_WEBHOOK_RETRY_FIRST_SECONDS="1", PC_WEBHOOK_RETRY_MAX_SECONDS="3",
                     PC_WEBHOOK_CONNECT_TIMEOUT_SECONDS="1")
    endpoint, secret = services.endpoint_create(actor=admin_member, url=f"http://127.0.0.1:{port}/hooks")
    events(partner, customer, 100)
    deliveries = Delivery.objects.filter(endpoint=endpoint)
    expected = set(deliveries.values_list("event_id", flat=True))
    workers = [start_worker(env) for _ in range(2)]
    try:
        # Down for a while: deliveries are tried and fail (connection refused), some several times.
        wait_until(lambda: deliveries.filter(attempts__gte=2).count() >= 10, 60, "events to be retried")
        time.sleep(3)
        assert not deliveries.filter(status="delivered").exists()
        tried_while_down = deliveries.filter(attempts__gte=1).count()
        with Receiver(port) as receiver:
            wait_until(lambda: not deliveries.exclude(status="delivered").exists(), 90, "every event to arrive")
            ids = receiver.ids()
            for request in receiver.requests:
                Webhook(secret).verify(request["body"], request["headers"])
    finally:
        for worker in workers:
            stop(worker)
    assert set(ids) == expected and len(ids) == len(expected)
    # Those tried while it was down arrived through a retry.
    assert tried_while_down >= 10 and deliveries.filter(attempts__gte=2).count() >= tried_while_down
