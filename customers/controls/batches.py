"""Acting on many customers at once (issue 20, SPEC R32): freeze, unfreeze, a monthly budget or
a customer manager for the ticked rows of the customer list or every row matching its filter,
up to ``PARTNER_CENTER["BATCH_MAX_ROWS"]``.

``batch_preview`` says, before anything happens, how many rows will change and why the others
will not. ``batch_create`` writes the batch and one row per customer; ``batch_run`` applies
them, each in its own transaction: the row's service and the row's outcome commit together, so
a run stopped at any point (cancelled, or its worker killed) resumes with exactly the rows
still pending. Up to ``INLINE_ROWS`` rows run in the request; a larger batch runs as the
``run_batch`` task (customers.controls.tasks). The rules are the single-customer services'
own: each row calls ``customer_freeze``, ``customer_unfreeze``, ``customer_budget_set`` or
``organization.services.customer_manager_assign`` as the member who started the batch."""
import queue
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.controls import services as controls
from customers.controls.selectors import controllable_associations, lacks_grant
from customers.models import Association, Batch, BatchRow
from organization.models import User

INLINE_ROWS = 300
# Rows read (with their associations) and applied per round; progress and a cancel between rounds.
CHUNK_ROWS = 200
# A running batch whose worker has shown no progress for this long is taken for lost.
STALE_AFTER = timedelta(minutes=2)
PERMISSIONS = {
    Batch.Action.FREEZE: "customers.freeze_customers",
    Batch.Action.UNFREEZE: "customers.freeze_customers",
    Batch.Action.BUDGET: "customers.manage_budgets",
    Batch.Action.MANAGER: "organization.manage_members",
}


def max_rows() -> int:
    return settings.PARTNER_CENTER["BATCH_MAX_ROWS"]


@dataclass
class Preview:
    total: int
    changing: int = 0
    reasons: Counter = field(default_factory=Counter)

    @property
    def unchanged(self) -> int:
        return self.total - self.changing

    @property
    def reason_counts(self) -> list[tuple[str, int]]:
        """Each reason with how many rows it keeps unchanged, the commonest first."""
        return self.reasons.most_common()


def _not_yours() -> str:
    return _("This customer is not one of yours.")


def _refusal(actor, action: str, association: Association | None, *, amount=None, manager=None) -> str | None:
    """Why the row would not change, read without locks (the run checks again under them)."""
    if association is None:
        return _not_yours()
    partner = actor.partner
    if action == Batch.Action.FREEZE:
        return controls.freeze_refusal(partner=partner, association=association)
    if action == Batch.Action.UNFREEZE:
        return controls.unfreeze_refusal(partner=partner, association=association)
    if action == Batch.Action.BUDGET:
        refusal = controls.budget_refusal(partner=partner, association=association)
        if refusal is None and association.customer.monthly_budget == amount:
            refusal = _("The monthly budget is already %(amount)s.") % {"amount": amount}
        return refusal
    if association.partner_id != partner.pk:
        return _not_yours()
    if association.customer.manager_id == (manager.pk if manager else None):
        return _("The customer already has this customer manager.")
    return None


def _associations(actor, customer_ids) -> dict[int, Association]:
    """The member's controllable associations of ``customer_ids``, by customer id."""
    found = {}
    ids = list(customer_ids)
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        found.update({a.customer_id: a for a in controllable_associations(actor).filter(customer_id__in=chunk)})
    return found


def check_params(*, actor, action: str, customer_ids, reason: str, amount, manager) -> None:
    if action not in Batch.Action.values:
        raise ValidationError(_("Choose an action."), code="action")
    if not actor.has_perm(PERMISSIONS[action]):
        raise ValidationError(_("Your role does not allow this action."), code="permission")
    if not customer_ids:
        raise ValidationError(_("Tick at least one customer."), code="empty")
    if len(customer_ids) > max_rows():
        raise ValidationError(
            _("A batch holds at most %(limit)s customers; narrow the filter.") % {"limit": max_rows()}, code="too_many"
        )
    if action in (Batch.Action.FREEZE, Batch.Action.UNFREEZE):
        if error := controls.reason_error(reason):
            raise ValidationError(error, code="reason")
    if action == Batch.Action.BUDGET:
        if error := controls.budget_amount_error(amount):
            raise ValidationError(error, code="amount")
    if action == Batch.Action.MANAGER and manager is not None and manager.partner_id != actor.partner_id:
        raise ValidationError(_("Choose a member of your organization."), code="manager")


def batch_preview(*, actor, action: str, customer_ids, reason: str = "", amount=None, manager=None) -> Preview:
    """How many of ``customer_ids`` would change, and each reason why the others would not."""
    ids = list(dict.fromkeys(customer_ids))
    check_params(actor=actor, action=action, customer_ids=ids, reason=reason, amount=amount, manager=manager)
    associations = _associations(actor, ids)
    preview = Preview(total=len(ids))
    for customer_id in ids:
        association = associations.get(customer_id)
        refusal = _refusal(actor, action, association, amount=amount, manager=manager)
        if refusal is None:
            preview.changing += 1
        else:
            preview.reasons[refusal] += 1
    return preview


@transaction.atomic
def batch_create(*, actor, action: str, customer_ids, reason: str = "", amount: Decimal | None = None,
                 manager: User | None = None) -> Batch:
    """Write the batch and its rows (nothing is applied yet); a batch over ``INLINE_ROWS`` is
    queued to the worker with it."""
    ids = list(dict.fromkeys(customer_ids))
    check_params(actor=actor, action=action, customer_ids=ids, reason=reason, amount=amount, manager=manager)
    batch = Batch.objects.create(partner_id=actor.partner_id, created_by=actor, action=action, reason=reason,
                                 amount=amount, manager=manager, total=len(ids))
    BatchRow.objects.bulk_create([BatchRow(batch=batch, customer_id=pk) for pk in ids], batch_size=2000)
    if len(ids) > INLINE_ROWS:
        _enqueue(batch)
    return batch


def batch_start(*, actor, **params) -> Batch:
    """What the batch page's Apply and the API's createBatch do: ``batch_create``, then a batch
    of up to ``INLINE_ROWS`` rows applied before the answer (``batch_create`` queued a larger
    one to the worker). Not in a transaction of its own: each row has its own."""
    batch = batch_create(actor=actor, **params)
    if batch.total <= INLINE_ROWS:
        batch_run(batch_id=batch.pk)
    return batch


def _enqueue(batch: Batch) -> None:
    from customers.controls.tasks import run_batch
    from notifications.queue import enqueue_with_change

    enqueue_with_change(run_batch, batch.pk)


def _apply(batch: Batch, actor, customer_id: int, association: Association | None) -> None:
    """Apply the batch's action to one customer; ``association`` is the member's controllable
    association of it as read for the chunk (None: not the member's), which the service locks
    and checks again."""
    if association is None:
        raise ValidationError(_not_yours(), code="not_found")
    if batch.action in (Batch.Action.FREEZE, Batch.Action.UNFREEZE):
        if lacks_grant(actor, association):
            raise ValidationError(
                _("Your distributor has not granted you the right to freeze and unfreeze your customers."),
                code="not_allowed",
            )
        service = (controls.freeze_in_transaction if batch.action == Batch.Action.FREEZE
                   else controls.unfreeze_in_transaction)
        service(actor=actor, association=association, reason=batch.reason)
    elif batch.action == Batch.Action.BUDGET:
        controls.budget_set_in_transaction(actor=actor, association=association, amount=batch.amount,
                                           reason=batch.reason)
    else:
        from organization.services import customer_manager_assign

        if association.partner_id != actor.partner_id:
            raise ValidationError(_not_yours(), code="not_found")
        if association.customer.manager_id == batch.manager_id:
            raise ValidationError(_("The customer already has this customer manager."), code="unchanged")
        customer_manager_assign(actor=actor, customer_ids=[customer_id], manager=batch.manager)


def batch_run(*, batch_id: int, limit: int | None = None, workers: int = 1, processes: bool = False) -> int:
    """Apply the batch's pending rows, each in its own transaction, until none is left, the
    batch is cancelled or ``limit`` rows are done; returns how many were processed. Safe to
    run again at any time (rows already applied are not pending any more).

    ``workers`` > 1 (the worker's task passes ``PARTNER_CENTER["BATCH_WORKERS"]``) applies a
    chunk's rows on that many threads, each with its own database connection, each row still
    its own transaction there; ``processes`` runs them on that many forked processes instead
    (``PARTNER_CENTER["BATCH_PROCESSES"]``: threads share one interpreter's lock, and a row's
    Python is most of its time). Only on PostgreSQL and outside any transaction (other
    connections see only committed rows): otherwise the rows run one after another here."""
    claimed = Batch.objects.filter(pk=batch_id, status__in=[Batch.Status.QUEUED, Batch.Status.RUNNING]).update(
        status=Batch.Status.RUNNING, heartbeat_at=timezone.now()
    )
    if not claimed:
        return 0
    batch = Batch.objects.select_related("created_by", "created_by__partner", "manager").get(pk=batch_id)
    actor = batch.created_by
    if workers > 1 and (connection.vendor != "postgresql" or connection.in_atomic_block):
        workers = 1
    pool = None
    if workers > 1:
        pool = _ProcessPool(workers, batch, actor) if processes else _Pool(workers, batch, actor)
    done = 0
    try:
        while limit is None or done < limit:
            size = CHUNK_ROWS if limit is None else min(CHUNK_ROWS, limit - done)
            pending = list(
                BatchRow.objects.filter(batch_id=batch_id, outcome=BatchRow.Outcome.PENDING)
                .order_by("id").values_list("id", "customer_id")[:size]
            )
            if not pending:
                break
            associations = _associations(actor, [customer_id for _row, customer_id in pending]) if actor else {}
            work = [(row_id, customer_id, associations.get(customer_id)) for row_id, customer_id in pending]
            if pool is not None:
                pool.run(work)
            else:
                for row_id, customer_id, association in work:
                    _run_row(batch, actor, row_id, customer_id, association)
            done += len(work)
            # Progress for the page, and a cancel takes effect between chunks.
            still = Batch.objects.filter(pk=batch_id, status=Batch.Status.RUNNING).update(heartbeat_at=timezone.now())
            if not still:
                return done
    finally:
        if pool is not None:
            pool.close()
    if not BatchRow.objects.filter(batch_id=batch_id, outcome=BatchRow.Outcome.PENDING).exists():
        Batch.objects.filter(pk=batch_id, status=Batch.Status.RUNNING).update(
            status=Batch.Status.DONE, finished_at=timezone.now()
        )
    return done


class _Pool:
    """Threads that apply a chunk's rows, each thread on its own database connection (Django
    gives every thread its own), closed when the run ends. A row's error other than a refusal
    stops the run as it would one after another: the first one is raised once the chunk's
    other rows are done (each of them committed or rolled back whole)."""

    def __init__(self, size: int, batch: Batch, actor):
        self.batch, self.actor = batch, actor
        # A refusal's message in the run's language (each thread has its own active language).
        self.language = translation.get_language()
        self.rows: queue.Queue = queue.Queue()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(size)]
        for thread in self.threads:
            thread.start()

    def _work(self) -> None:
        if self.language:
            translation.activate(self.language)
        try:
            while (item := self.rows.get()) is not None:
                try:
                    if not self.errors:
                        _run_row(self.batch, self.actor, *item)
                except BaseException as error:  # noqa: BLE001 (handed to the run's thread)
                    self.errors.append(error)
                finally:
                    self.rows.task_done()
            self.rows.task_done()
        finally:
            connection.close()

    def run(self, work) -> None:
        for item in work:
            self.rows.put(item)
        self.rows.join()
        if self.errors:
            raise self.errors[0]

    def close(self) -> None:
        for _thread in self.threads:
            self.rows.put(None)
        for thread in self.threads:
            thread.join()


_child_batch = None


def _child_start(batch: Batch, actor) -> None:
    global _child_batch
    _child_batch = (batch, actor)


def _child_row(item) -> None:
    _run_row(*_child_batch, *item)


class _ProcessPool:
    """Forked processes that apply a chunk's rows, each on its own database connection: the
    parent closes its connections before forking (it holds no transaction: ``batch_run``
    checks), so each process opens its own. A row's error other than a refusal is raised here."""

    def __init__(self, size: int, batch: Batch, actor):
        import multiprocessing

        connections.close_all()
        self.pool = multiprocessing.get_context("fork").Pool(size, initializer=_child_start, initargs=(batch, actor))
        self.size = size

    def run(self, work) -> None:
        self.pool.map(_child_row, work, chunksize=max(1, len(work) // (self.size * 4)))

    def close(self) -> None:
        self.pool.close()
        self.pool.join()


def _settle(row_id: int, outcome: str, message: str) -> bool:
    """Write a pending row's outcome; False when another run has meanwhile settled it."""
    return bool(BatchRow.objects.filter(pk=row_id, outcome=BatchRow.Outcome.PENDING).update(
        outcome=outcome, message=message, processed_at=timezone.now()
    ))


def _run_row(batch: Batch, actor, row_id: int, customer_id: int, association: Association | None) -> None:
    """One row in one transaction: the row is settled as changed first (which also locks it,
    so a second run of the same row waits, then finds it settled and does nothing), then the
    service runs in that same transaction without a savepoint. A refusal rolls the whole
    transaction back, the row's outcome with it, and the refusal is written on its own (a
    single statement): a run stopped between the two finds the row pending and refuses it
    again, having changed nothing."""
    if actor is None or not actor.is_active:
        _settle(row_id, BatchRow.Outcome.REFUSED, _("The member who started the batch can no longer act."))
        return
    try:
        with transaction.atomic():
            if not _settle(row_id, BatchRow.Outcome.CHANGED, ""):
                return
            _apply(batch, actor, customer_id, association)
    except ValidationError as error:
        _settle(row_id, BatchRow.Outcome.REFUSED, " ".join(error.messages)[:500])


@transaction.atomic
def batch_cancel(*, actor, batch: Batch) -> Batch:
    """Stop a queued or running batch: rows already applied stay, the others stay pending."""
    locked = Batch.objects.select_for_update().get(pk=batch.pk)
    if locked.partner_id != actor.partner_id:
        raise ValidationError(_not_yours(), code="not_found")
    if locked.status not in (Batch.Status.QUEUED, Batch.Status.RUNNING):
        raise ValidationError(_("This batch has already finished."), code="finished")
    locked.status, locked.finished_at = Batch.Status.CANCELLED, timezone.now()
    locked.save(update_fields=["status", "finished_at"])
    return locked


@transaction.atomic
def batch_resume(*, actor, batch: Batch) -> Batch:
    """Queue a batch again whose worker was lost (no progress for ``STALE_AFTER``) or that was
    cancelled: it goes on with the rows still pending."""
    locked = Batch.objects.select_for_update().get(pk=batch.pk)
    if locked.partner_id != actor.partner_id:
        raise ValidationError(_not_yours(), code="not_found")
    if not can_resume(locked):
        raise ValidationError(_("This batch is running or has finished."), code="not_resumable")
    locked.status, locked.finished_at = Batch.Status.QUEUED, None
    locked.save(update_fields=["status", "finished_at"])
    _enqueue(locked)
    return locked


def can_resume(batch: Batch) -> bool:
    if batch.status == Batch.Status.CANCELLED:
        return BatchRow.objects.filter(batch=batch, outcome=BatchRow.Outcome.PENDING).exists()
    if batch.status in (Batch.Status.QUEUED, Batch.Status.RUNNING):
        seen = batch.heartbeat_at or batch.created_at
        return seen < timezone.now() - STALE_AFTER
    return False


def resume_stale_batches() -> int:
    """Queue again every batch whose worker was lost (for the scheduler's sweep)."""
    stale = Batch.objects.filter(
        status__in=[Batch.Status.QUEUED, Batch.Status.RUNNING], heartbeat_at__lt=timezone.now() - STALE_AFTER
    )
    count = 0
    for batch in stale:
        _enqueue(batch)
        count += 1
    return count


def progress(batch: Batch) -> dict:
    """The batch's rows by outcome. Only the rows not changed are counted: from the batch's
    own statement when it was read ``with_progress`` (``customers.controls.selectors``), else
    in one statement here. The changed ones are the rest of ``total``, which is the number of
    rows ``batch_create`` wrote with the batch (rows go only with their batch)."""
    if hasattr(batch, "refused_rows"):
        refused, pending = batch.refused_rows, batch.pending_rows
    else:
        counts = dict(
            BatchRow.objects.filter(batch=batch).exclude(outcome=BatchRow.Outcome.CHANGED)
            .values_list("outcome").annotate(n=Count("id"))
        )
        refused, pending = counts.get(BatchRow.Outcome.REFUSED, 0), counts.get(BatchRow.Outcome.PENDING, 0)
    processed = batch.total - pending
    return {
        "changed": processed - refused,
        "refused": refused,
        "pending": pending,
        "processed": processed,
        "percent": int(processed * 100 / batch.total) if batch.total else 100,
    }
