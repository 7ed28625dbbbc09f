"""``python manage.py run_worker [options]``: run the task queue of the configured backend.

``TASKS_BACKEND=database`` (default): django-tasks-db's ``db_worker`` (options pass through,
for example ``--interval 0.5``, ``--no-reload`` or ``--batch``); ``rq``: django-rq's ``rqworker
default --with-scheduler --job-class django_tasks_rq.Job`` (the scheduler moves deferred tasks,
the e-mail retries, into the queue). Start as many as the load needs, on as many machines,
against the same database or Redis: a task is claimed by one worker only."""
from django.conf import settings
from django.core.management import load_command_class
from django.core.management.base import BaseCommand, CommandError


def _worker_argv(prog: str, options: list[str]) -> list[str]:
    if settings.TASKS_BACKEND == "database":
        return [prog, "db_worker", *options]
    if settings.TASKS_BACKEND == "rq":
        return [prog, "rqworker", "default", "--with-scheduler", "--job-class", "django_tasks_rq.Job", *options]
    raise CommandError(f"TASKS_BACKEND={settings.TASKS_BACKEND} runs each task where it is enqueued: no worker.")


class Command(BaseCommand):
    help = "Run a worker for the configured task backend (TASKS_BACKEND); options go to that worker."

    def run_from_argv(self, argv):
        worker_argv = _worker_argv(argv[0], argv[2:])
        app = "django_tasks_db" if worker_argv[1] == "db_worker" else "django_rq"
        load_command_class(app, worker_argv[1]).run_from_argv(worker_argv)

    def handle(self, *args, **options):  # pragma: no cover - run_from_argv does the work
        raise CommandError("Run it as manage.py run_worker.")
