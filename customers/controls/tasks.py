"""The reseller controls' background work: a large batch runs on the worker (the queue's rules:
notifications/queue.py). The task names the batch; the batch's rows are the state, so running
it twice, or again after a lost worker, applies each row once."""
from notifications.queue import task


@task()
def run_batch(batch_id: int) -> int:
    from django.conf import settings

    from customers.controls.batches import batch_run

    return batch_run(batch_id=batch_id, workers=settings.PARTNER_CENTER["BATCH_WORKERS"],
                     processes=settings.PARTNER_CENTER["BATCH_PROCESSES"])
