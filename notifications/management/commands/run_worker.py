"""``python manage.py run_worker [options]``: run the task queue of the configured backend.

``TASKS_BACKEND=database`` (default): django-tasks-db's ``db_worker`` (options pass through,
for example ``--interval 0.5``, ``--no-reload`` or ``--batch``); ``rq``: django-rq's ``rqworker
default --with-scheduler --job-class django_tasks_rq.Job`` (the scheduler moves deferred tasks,
the e-mail retries, into the queue). Start as many as the load needs, on as many machines,
against the same database or Redis: a task is claimed by one worker only."""
from django.conf import settings
from django.core.management import load_command_class
from django.core.management.base import BaseCommand, CommandError
from django.db.backends.signals import connection_created


def _asynchronous_commit(sender, connection, **kwargs):
    """The worker's own PostgreSQL sessions do not wait for the WAL flush at each commit (a
    worker commits two or three times per task: claim, outcome). Safe here because nothing a
    worker writes is lost for good by a database crash: a state that did not reach the disk is
    the earlier one (a task still ready, a row still queued or sending), which a worker or the
    sweep (notifications.queue.sweep) takes up again; the receivers de-duplicate by the
    e-mail's Message-ID and the webhook's webhook-id. The portal's own sessions keep
    synchronous commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")


def _worker_argv(prog: str, options: list[str]) -> list[str]:
    if settings.TASKS_BACKEND == "database":
        return [prog, "db_worker", *options]
    if settings.TASKS_BACKEND == "rq":
        return [prog, "rqworker", "default", "--with-scheduler", "--job-class", "django_tasks_rq.Job", *options]
    raise CommandError(f"TASKS_BACKEND={settings.TASKS_BACKEND} runs each task where it is enqueued: no worker.")


# The worker closes "old" connections around every task (as Django does around a request): with
# the portal's CONN_MAX_AGE=0 that is a new database connection, a new PostgreSQL backend
# process, per task. A worker keeps its connection this long (health-checked before reuse).
WORKER_CONN_MAX_AGE = 300


def _persistent_connections() -> None:
    from django.db import connections

    for alias in connections:
        conn = connections[alias]
        conn.settings_dict["CONN_MAX_AGE"] = max(conn.settings_dict.get("CONN_MAX_AGE") or 0, WORKER_CONN_MAX_AGE)
        conn.settings_dict["CONN_HEALTH_CHECKS"] = True


class Command(BaseCommand):
    help = "Run a worker for the configured task backend (TASKS_BACKEND); options go to that worker."

    def run_from_argv(self, argv):
        worker_argv = _worker_argv(argv[0], argv[2:])
        connection_created.connect(_asynchronous_commit)
        _persistent_connections()
        app = "django_tasks_db" if worker_argv[1] == "db_worker" else "django_rq"
        load_command_class(app, worker_argv[1]).run_from_argv(worker_argv)

    def handle(self, *args, **options):  # pragma: no cover - run_from_argv does the work
        raise CommandError("Run it as manage.py run_worker.")
