"""The portal's background tasks (Django's Tasks API; see notifications/queue.py for the rule
they keep). ``deliver_webhooks()`` sends the due webhook delivery rows in batches (one such task
per transaction that wrote records, webhooks.fanout); ``deliver_webhook(delivery_id)`` sends one
named row (a retry, a redelivery, a test event, the sweep's), claimed like ``send_email``."""
from notifications.queue import task


@task()
def send_email(email_id: int) -> str:
    """Send one ``OutgoingEmail`` (notifications.email.deliver)."""
    from notifications.email import deliver

    return deliver(email_id)


@task()
def expire_requests() -> int:
    """The request-expiry job (``manage.py expire_requests``), on the worker: settle the requests
    past their deadline. Running it twice, or beside cron, is safe."""
    from customers.requests.services import request_expire_due

    return len(request_expire_due())


@task()
def deliver_webhook(delivery_id: int) -> str:
    """Send one webhook ``Delivery`` (webhooks.delivery.deliver)."""
    from webhooks.delivery import deliver

    return deliver(delivery_id)


@task()
def deliver_webhooks() -> str:
    """Send the due webhook deliveries, a batch at a time (webhooks.delivery.deliver_due)."""
    from webhooks.delivery import deliver_due

    return deliver_due()
