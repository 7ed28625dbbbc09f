"""Background work: e-mail is queued with its change and sent by a worker, retried with backoff,
failed visibly, recovered after a lost worker; two workers never send one e-mail twice; the RQ
backend works against the machine's Redis; the scheduler runs the request-expiry job.

The SMTP servers here are real (aiosmtpd in a thread, or a socket that never answers); the
PostgreSQL tests start real worker processes (``manage.py run_worker``)."""
import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from customers.invitations.services import invitation_send
from customers.models import Association, AssociationRequest
from customers.requests import services as request_services
from notifications.email import queue_email, retry_delay
from notifications.models import OutgoingEmail
from notifications.queue import TaskResultStatus, sweep
from notifications.tasks import send_email

ROOT = Path(__file__).resolve().parent.parent
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
RQ_TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
RQ_DB = "redis://127.0.0.1:6379/9"


# Helpers ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """A real SMTP server on 127.0.0.1:``port``, in a thread; ``delay`` seconds per message,
    ``stall`` never answers the message (the worker waits for the reply)."""

    def __init__(self, port, delay=0.0, stall=False):
        self.port, self.delay, self.stall = port, delay, stall
        self.messages = []
        self.received = threading.Event()
        self.controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.received.set()
        if self.stall:
            await asyncio.sleep(3600)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def ids(self):
        return [m["Message-ID"] for m in self.messages]


class SilentServer:
    """Accepts TCP connections and never says a word: a stalled mail server."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.port = self.socket.getsockname()[1]
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.held.append(self.socket.accept()[0])
            except OSError:
                return

    def close(self):
        for conn in self.held:
            conn.close()
        self.socket.close()


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


@pytest.fixture
def smtp(settings):
    """SMTP to a local port (nothing listens there until a test starts a sink on it)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 5
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "EMAIL_RETRY_FIRST_SECONDS": 1}
    return settings


@pytest.fixture
def association(customer):
    return Association.objects.select_related("partner", "customer").get(customer=customer, status="active")


@pytest.fixture
def run_queue(monkeypatch):
    """Run django-tasks-db's own worker in this process until no task is ready."""
    # The worker closes obsolete connections between tasks; inside the test's transaction that
    # would close the connection the test runs in.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run():
        db_worker.Worker(
            queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
            max_tasks=None, worker_id="test-worker", excluded_queue_names=[],
        ).run()

    return run


def wait_until_due(email):
    email.refresh_from_db()
    time.sleep(max(0.0, (email.due_at - timezone.now()).total_seconds()) + 0.05)


def invite(member, email="new@example.com"):
    return invitation_send(actor=member, email=email, type="referral", language="en", base_url="http://testserver/")


# Queued with the change ------------------------------------------------------------------------


def test_a_rolled_back_change_queues_no_email_and_sends_nothing(database_tasks, run_queue, admin_member):
    with pytest.raises(RuntimeError), transaction.atomic():
        invite(admin_member)
        # Inside the transaction the e-mail and its task exist…
        assert OutgoingEmail.objects.count() == 1 and DBTaskResult.objects.count() == 1
        raise RuntimeError("the change fails after the e-mail was queued")
    # …and they rolled back with the change.
    assert not OutgoingEmail.objects.exists() and not DBTaskResult.objects.exists()
    run_queue()
    assert mail.outbox == []


def test_a_committed_change_is_sent_by_the_worker_not_by_the_request(database_tasks, run_queue, as_user, admin_member):
    response = as_user(admin_member).post(
        reverse("customers:invitation_create"),
        {"email": "new@example.com", "name": "New Co", "type": "referral", "language": "en"},
    )
    assert response.status_code == 302
    assert mail.outbox == []
    email = OutgoingEmail.objects.get()
    assert (email.status, email.kind, email.recipient) == ("queued", "invitation", "new@example.com")
    assert DBTaskResult.objects.get().task_path == "notifications.tasks.send_email"
    run_queue()
    assert len(mail.outbox) == 1 and mail.outbox[0].extra_headers["Message-ID"] == email.message_id
    email.refresh_from_db()
    assert (email.status, email.attempts, email.sent_at is not None) == ("sent", 1, True)
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_request_notifications_to_both_sides_are_queued_in_each_language(
    database_tasks, run_queue, association, admin_member
):
    admin_member.language = "zh-hans"
    admin_member.save(update_fields=["language"])
    request_services.request_submit(
        actor=admin_member, association=association, kind=AssociationRequest.Kind.UNBIND, reason="Moving on"
    )
    queued = {e.recipient: e for e in OutgoingEmail.objects.all()}
    assert set(queued) == {association.customer.email, admin_member.email}
    assert {e.kind for e in queued.values()} == {"association_request"}
    run_queue()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(queued)
    to_member = next(m for m in mail.outbox if m.to == [admin_member.email])
    assert to_member.subject == queued[admin_member.email].subject and "解除" in to_member.subject


def test_an_email_is_sent_once_however_many_triggers_it_gets(database_tasks, run_queue, db):
    with transaction.atomic():
        email = queue_email(to="a@example.com", subject="Hello", body="Body", kind="test")
    send_email.enqueue(email.pk)
    send_email.enqueue(email.pk)
    run_queue()
    assert len(mail.outbox) == 1
    assert sorted(r.return_value for r in DBTaskResult.objects.all()) == [
        "not due or already handled", "not due or already handled", "sent",
    ]


# Retry, timeout, final failure -----------------------------------------------------------------


def test_a_mail_server_that_is_down_is_retried_and_the_email_arrives_when_it_returns(
    database_tasks, smtp, run_queue, db
):
    with transaction.atomic():
        email = queue_email(to="a@example.com", subject="Hello", body="Body", kind="test")
    run_queue()  # nothing listens on the port
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("queued", 1)
    assert "ConnectionRefusedError" in email.last_error
    retry = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert retry.run_after == email.due_at and email.due_at > timezone.now()

    run_queue()  # the retry is not due yet
    assert OutgoingEmail.objects.get().attempts == 1

    with Sink(smtp.EMAIL_PORT) as sink:
        wait_until_due(email)
        run_queue()
    assert sink.ids() == [email.message_id]
    assert sink.messages[0]["Subject"] == "Hello"
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 2)


def test_retries_back_off_exponentially_up_to_an_hour_apart(settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "EMAIL_RETRY_FIRST_SECONDS": 30}
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 8, 20)] == [30, 60, 120, 240, 3600, 3600]


def test_a_stalled_mail_server_times_out_and_the_email_waits_for_a_retry(database_tasks, smtp, run_queue, db):
    smtp.EMAIL_TIMEOUT = 1
    server = SilentServer()
    smtp.EMAIL_PORT = server.port
    with transaction.atomic():
        email = queue_email(to="a@example.com", subject="Hello", body="Body", kind="test")
    started = time.monotonic()
    try:
        run_queue()
    finally:
        server.close()
    assert time.monotonic() - started < 4
    assert server.held, "the worker connected to the stalled server"
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("queued", 1)
    assert "timed out" in email.last_error


def test_a_failure_after_the_retry_window_is_final_and_shown_to_the_operator(
    database_tasks, smtp, run_queue, client, operator
):
    with transaction.atomic():
        email = queue_email(to="lost@example.com", subject="Your invitation", body="Body", kind="invitation")
    OutgoingEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(hours=25))
    run_queue()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 1)
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()

    client.force_login(operator)
    page = client.get(reverse("admin:notifications_outgoingemail_changelist") + "?status__exact=failed")
    assert page.status_code == 200
    text = page.content.decode()
    assert "lost@example.com" in text and "ConnectionRefusedError" in text and "Failed" in text
    detail = client.get(reverse("admin:notifications_outgoingemail_change", args=[email.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert client.post(reverse("admin:notifications_outgoingemail_change", args=[email.pk]), {}).status_code == 403
    assert client.get(reverse("admin:notifications_outgoingemail_add")).status_code == 403


def test_a_refusal_by_the_mail_server_fails_at_once(database_tasks, smtp, run_queue, db):
    class Refusing(Sink):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            return "550 No such user here"

    with transaction.atomic():
        email = queue_email(to="nobody@example.com", subject="Hello", body="Body", kind="test")
    with Refusing(smtp.EMAIL_PORT):
        run_queue()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 1) and "550" in email.last_error


# Lost workers ----------------------------------------------------------------------------------


def test_the_sweep_queues_again_an_email_whose_worker_was_lost(database_tasks, run_queue, settings, db):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "TASK_STALE_SECONDS": 60}
    with transaction.atomic():
        email = queue_email(to="a@example.com", subject="Hello", body="Body", kind="test")
    # What a worker SIGKILLed in the middle of sending leaves behind: the task claimed, the
    # e-mail claimed, neither finished.
    long_ago = timezone.now() - timedelta(minutes=5)
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING, started_at=long_ago, worker_ids=["killed"])
    OutgoingEmail.objects.update(status="sending", claimed_at=long_ago, attempts=1)
    run_queue()
    assert mail.outbox == []  # nothing ready: the claimed task is never picked again by itself

    assert sweep() == {"lost_task_results": 1, "requeued_emails": 1, "requeued_deliveries": 0, "purged_deliveries": 0,
                       "resumed_batches": 0}
    lost = DBTaskResult.objects.get(worker_ids=["killed"])
    assert lost.status == TaskResultStatus.FAILED and lost.exception_class_path.endswith("WorkerLost")
    # A second sweep finds nothing.
    assert sweep() == {"lost_task_results": 0, "requeued_emails": 0, "requeued_deliveries": 0, "purged_deliveries": 0,
                       "resumed_batches": 0}
    run_queue()
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [email.message_id]
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 2)


def test_the_sweep_leaves_alone_an_email_whose_task_is_still_waiting(database_tasks, settings, db):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "TASK_STALE_SECONDS": 60}
    with transaction.atomic():
        queue_email(to="a@example.com", subject="Hello", body="Body", kind="test")
    OutgoingEmail.objects.update(due_at=timezone.now() - timedelta(minutes=5))  # the workers are behind
    assert sweep()["requeued_emails"] == 0
    assert DBTaskResult.objects.count() == 1


def test_an_email_whose_enqueue_after_commit_was_lost_is_queued_by_the_sweep(
    settings, db, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}}
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "TASK_STALE_SECONDS": 60}
    with transaction.atomic():
        queue_email(to="a@example.com", subject="Hello", body="Body", kind="test")
    # The commit happened, the enqueue after it never did (queue down, process gone).
    OutgoingEmail.objects.update(due_at=timezone.now() - timedelta(minutes=5))
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep()["requeued_emails"] == 1
    assert len(mail.outbox) == 1 and OutgoingEmail.objects.get().status == "sent"


# The scheduler ---------------------------------------------------------------------------------


def test_the_scheduler_queues_the_expiry_job_and_a_worker_settles_overdue_requests(
    database_tasks, run_queue, association, admin_member, monkeypatch
):
    from notifications.management.commands import run_scheduler

    monkeypatch.setattr(run_scheduler, "close_old_connections", lambda: None)  # see run_queue
    pending = request_services.request_submit(
        actor=admin_member, association=association, kind=AssociationRequest.Kind.UNBIND, reason="Moving on"
    )
    AssociationRequest.objects.filter(pk=pending.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    run_queue()  # the submission's e-mails
    call_command("run_scheduler", "--once", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert DBTaskResult.objects.filter(task_path="notifications.tasks.expire_requests", status="READY").count() == 1
    run_queue()
    pending.refresh_from_db()
    assert pending.status == AssociationRequest.Status.EXPIRED
    assert DBTaskResult.objects.get(task_path="notifications.tasks.expire_requests").return_value == 1


# RQ on Redis -----------------------------------------------------------------------------------


def test_the_rq_backend_queues_on_redis_after_the_commit_and_its_worker_sends_the_email(
    settings, admin_member, django_capture_on_commit_callbacks
):
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker

    settings.RQ_QUEUES = {"default": {"URL": RQ_DB}}
    settings.TASKS = RQ_TASKS
    queue = django_rq.get_queue("default", job_class=Job)
    queue.connection.flushdb()
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            invite(admin_member)
        assert queue.count == 0  # nothing reaches Redis before the commit
        for callback in callbacks:
            callback()
        assert queue.count == 1
        assert mail.outbox == []
        SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
        assert OutgoingEmail.objects.get().status == "sent"
    finally:
        queue.connection.flushdb()


def test_an_rq_retry_is_deferred_on_redis(settings, smtp, db, django_capture_on_commit_callbacks):
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker
    from rq.registry import ScheduledJobRegistry

    settings.RQ_QUEUES = {"default": {"URL": RQ_DB}}
    settings.TASKS = RQ_TASKS
    queue = django_rq.get_queue("default", job_class=Job)
    queue.connection.flushdb()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            queue_email(to="a@example.com", subject="Hello", body="Body", kind="test")
        worker = SimpleWorker([queue], connection=queue.connection, job_class=Job)
        with django_capture_on_commit_callbacks(execute=True):
            worker.work(burst=True)  # the mail server is down
        assert OutgoingEmail.objects.get().status == "queued"
        assert ScheduledJobRegistry(queue=queue).count == 1
    finally:
        queue.connection.flushdb()


# Real worker processes on PostgreSQL ------------------------------------------------------------


def worker_env(port, **extra):
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "TASKS_BACKEND": "database",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "DEBUG": "true",
    }
    env.pop("CACHE_URL", None)
    env.update(extra)
    return env


def start_worker(env, *options):
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1",
         "-v0", *options],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def queue_many(n):
    with transaction.atomic():
        return [queue_email(to=f"c{i}@example.com", subject=f"Hello {i}", body="Body", kind="test") for i in range(n)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_send_each_email_exactly_once(database_tasks):
    emails = queue_many(60)
    port = free_port()
    with Sink(port, delay=0.05) as sink:
        workers = [start_worker(worker_env(port), "--batch") for _ in range(2)]
        for worker in workers:
            assert worker.wait(timeout=120) == 0, worker.stderr.read().decode()
    assert sorted(sink.ids()) == sorted(e.message_id for e in emails)  # every one, none twice
    results = list(DBTaskResult.objects.all())
    assert len(results) == 60 and all(r.status == TaskResultStatus.SUCCESSFUL for r in results)
    assert all(len(r.worker_ids) == 1 for r in results)  # each task claimed by one worker
    assert len({r.worker_ids[0] for r in results}) == 2, "both workers took part"
    assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {("sent", 1)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_sending_loses_nothing_after_a_restart(database_tasks, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "TASK_STALE_SECONDS": 2}
    emails = queue_many(3)
    stalled_port, port = free_port(), free_port()
    with Sink(stalled_port, stall=True) as stalled:
        worker = start_worker(worker_env(stalled_port, EMAIL_TIMEOUT="60", PC_TASK_STALE_SECONDS="2"))
        try:
            assert stalled.received.wait(timeout=60), "the worker reached the mail server"
            assert OutgoingEmail.objects.filter(status="sending").count() == 1
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count() == 1  # left claimed

    time.sleep(2.1)  # the claim goes stale
    assert sweep() == {"lost_task_results": 1, "requeued_emails": 1, "requeued_deliveries": 0, "purged_deliveries": 0,
                       "resumed_batches": 0}
    with Sink(port) as sink:
        restarted = start_worker(worker_env(port, PC_TASK_STALE_SECONDS="2"), "--batch")
        assert restarted.wait(timeout=120) == 0, restarted.stderr.read().decode()
    assert sorted(sink.ids()) == sorted(e.message_id for e in emails)
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"sent"}
    assert sorted(OutgoingEmail.objects.values_list("attempts", flat=True)) == [1, 1, 2]


# make run ---------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_make_run_serves_the_portal_and_a_worker_and_ctrl_c_stops_both(database_tasks):
    """What ``make run`` starts (honcho with the Procfile, PORT passed on), against the test
    database: the portal answers, the worker sends a queued e-mail, SIGINT stops everything."""
    import urllib.request

    port = free_port()
    with transaction.atomic():
        email = queue_email(to="a@example.com", subject="Hello from the worker", body="Body", kind="test")
    env = worker_env(port, EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    honcho = subprocess.Popen(
        [str(Path(sys.executable).parent / "honcho"), "-f", "Procfile", "start", "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                status = urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5).status
            except OSError:
                time.sleep(0.5)
        assert status == 200
        while time.monotonic() < deadline and OutgoingEmail.objects.get().status != "sent":
            time.sleep(0.5)
        email.refresh_from_db()
        assert email.status == "sent"
    finally:
        honcho.send_signal(signal.SIGINT)  # Ctrl-C
        output = honcho.communicate(timeout=30)[0].decode()
    for name in ("web.1", "worker.1", "scheduler.1"):
        assert f"{name} stopped" in output
    assert "Hello from the worker" in output  # the console backend, in the worker's output
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_the_sweep_resumes_a_batch_whose_worker_was_lost_and_no_row_applies_twice(
    database_tasks, run_queue, admin_member, partner
):
    from audit.models import OperationRecord
    from customers.controls import batches
    from customers.models import Batch
    from partnercenter import factories as f

    customers = []
    for i in range(3):
        customer = f.CustomerWithUserFactory(account_name=f"sweep-batch-{i}")
        f.AssociationFactory(partner=partner, customer=customer, type=Association.Type.RESELLER)
        customers.append(customer)
    batch = batches.batch_create(
        actor=admin_member, action="freeze", customer_ids=[c.pk for c in customers], reason="sweep"
    )
    batches.batch_run(batch_id=batch.pk, limit=1)
    # The worker died after the first row: the batch says running, with no progress since.
    Batch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert sweep()["resumed_batches"] == 1
    run_queue()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DONE
    assert OperationRecord.objects.filter(event="customer.frozen").count() == 3
    assert sweep()["resumed_batches"] == 0
