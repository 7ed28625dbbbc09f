"""``python manage.py run_scheduler``: the clock beside the workers.

Every ``--tick`` seconds it sweeps (notifications.queue.sweep: work lost with a killed worker
or a failed enqueue is queued again) and, every ``PC_EXPIRE_REQUESTS_EVERY_SECONDS``, queues
the request-expiry job for a worker unless the one it queued last has not run yet. One per
deployment is enough; more (or cron's ``expire_requests`` beside it) are harmless: the sweep
claims rows with ``SKIP LOCKED`` and the expiry settles each request once. ``--once`` does
one round and exits (cron, tests)."""
import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from notifications.queue import TaskResultStatus, enqueue_with_change, sweep
from notifications.tasks import expire_requests

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Sweep the task queue and queue the request-expiry job on schedule."

    def add_arguments(self, parser):
        parser.add_argument("--tick", type=float, default=30.0, help="Seconds between two sweeps (default 30).")
        parser.add_argument("--once", action="store_true", help="One sweep and one expiry job, then exit.")

    def handle(self, *args, tick=30.0, once=False, **options):
        self.running = True
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        every = settings.PARTNER_CENTER["EXPIRE_REQUESTS_EVERY_SECONDS"]
        last_expiry, next_expiry = None, 0.0
        while self.running:
            close_old_connections()
            try:
                counts = sweep()
                if time.monotonic() >= next_expiry and not self._pending(last_expiry):
                    last_expiry = enqueue_with_change(expire_requests)
                    next_expiry = time.monotonic() + every
                    counts["expire_requests"] = "queued"
                if once or options["verbosity"] > 1:
                    self.stdout.write(", ".join(f"{name} {value}" for name, value in counts.items()))
            except Exception:  # noqa: BLE001 (a database or queue outage must not stop the clock)
                logger.exception("Scheduler round failed; trying again in %s s", tick)
                if once:
                    raise
            if once:
                return
            self._sleep(tick)

    def _pending(self, result) -> bool:
        """The expiry job queued last is still waiting (the workers are behind or down):
        queueing another would only pile up."""
        if result is None:
            return False
        try:
            result.refresh()
        except Exception:  # noqa: BLE001 (a result that cannot be read is not waiting)
            return False
        return result.status in (TaskResultStatus.READY, TaskResultStatus.RUNNING)

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while self.running and time.monotonic() < end:
            time.sleep(min(0.5, end - time.monotonic()))

    def _stop(self, signum, frame):
        self.running = False
