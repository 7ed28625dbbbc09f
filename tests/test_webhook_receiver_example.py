"""examples/webhook_receiver.py, the receiver the README and the API document point to, run as a
real process against real deliveries: it accepts what Partner Center signs, refuses a forgery,
and marks a redelivery (same webhook-id) as a duplicate. Its hand-written check agrees with
the standardwebhooks library."""
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import urllib3
from django.db import transaction
from django.utils import timezone

from audit.events import Event
from audit.services import record
from tests.webhook_receiver import free_port
from webhooks import services
from webhooks.delivery import deliver, signed_headers
from webhooks.models import Delivery

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
import webhook_receiver  # noqa: E402


@pytest.fixture
def example(admin_member):
    port = free_port()
    endpoint, secret = services.endpoint_create(actor=admin_member, url=f"http://127.0.0.1:{port}/partner-center")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "webhook_receiver.py"), "--port", str(port)],
        env={**os.environ, "WEBHOOK_SECRET": secret}, stdout=subprocess.PIPE, text=True)
    try:
        assert "listening" in json.loads(process.stdout.readline())
        yield endpoint, secret, port, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_example_receiver_accepts_signed_events_refuses_forgeries_and_spots_repeats(
        example, partner, customer, django_capture_on_commit_callbacks):
    endpoint, secret, port, process = example
    with transaction.atomic():
        rec = record(event=Event.REQUEST_SUBMITTED, partner=partner, customer=customer, after={"kind": "unbind"})
    delivery = Delivery.objects.get(record=rec, endpoint=endpoint)
    assert deliver(delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert delivery.status_code == 204
    line = json.loads(process.stdout.readline())
    assert line == {"id": delivery.event_id, "type": "request.submitted", "duplicate": False,
                    "data": json.loads(delivery.body)["data"]}

    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_redeliver(actor=None, delivery=delivery)
    assert json.loads(process.stdout.readline())["duplicate"] is True

    forged = signed_headers(services.new_secret(), delivery.event_id, timezone.now(), delivery.body)
    response = urllib3.request("POST", f"http://127.0.0.1:{port}/partner-center", body=delivery.body.encode(),
                               headers=forged)
    assert response.status == 400
    assert "rejected" in json.loads(process.stdout.readline())


def test_the_hand_written_check_agrees_with_the_library():
    secret = services.new_secret()
    body = '{"id":"evt_1","type":"webhook.test","data":{}}'
    headers = signed_headers(secret, "evt_1", timezone.now(), body)
    assert webhook_receiver.verify_by_hand(secret, headers, body.encode())["id"] == "evt_1"
    with pytest.raises(ValueError):
        webhook_receiver.verify_by_hand(services.new_secret(), headers, body.encode())
    with pytest.raises(ValueError):
        webhook_receiver.verify_by_hand(secret, headers, body.replace("test", "tost").encode())
    old = signed_headers(secret, "evt_1", timezone.now() - timedelta(minutes=6), body)
    with pytest.raises(ValueError):
        webhook_receiver.verify_by_hand(secret, old, body.encode())
