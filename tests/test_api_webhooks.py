"""API v1's webhook operations do what the portal's pages do: the secret only in the answers
that make one, the delivery log paged, a redelivery keeping its webhook-id; refused rules are
problems."""
import json

import pytest
from django.db import transaction

from api import services as api_services
from audit.events import Event
from audit.services import record
from webhooks.models import Delivery, Endpoint

V1 = "/api/v1"


@pytest.fixture
def auth(admin_member):
    return {"HTTP_AUTHORIZATION": f"Bearer {api_services.partner_token_create(member=admin_member)[1]}"}


def call(client, method, path, auth, body=None):
    data = json.dumps(body) if body is not None else None
    kwargs = {"data": data, "content_type": "application/json"} if data is not None else {}
    return client.generic(method, V1 + path, **kwargs, **auth)


def test_an_endpoint_is_registered_changed_and_deleted_and_its_secret_shown_only_when_made(client, auth):
    created = call(client, "POST", "/webhooks", auth, {"url": "http://127.0.0.1:9/hooks", "all_events": False,
                                                        "events": ["request.submitted"]})
    assert created.status_code == 201, created.content
    body = created.json()
    endpoint = Endpoint.objects.get(pk=body["id"])
    assert body["secret"] == endpoint.secret and body["events"] == ["request.submitted"]
    listed = call(client, "GET", "/webhooks", auth).json()
    assert [e["id"] for e in listed] == [endpoint.pk] and "secret" not in listed[0]
    assert "secret" not in call(client, "GET", f"/webhooks/{endpoint.pk}", auth).json()
    patched = call(client, "PATCH", f"/webhooks/{endpoint.pk}", auth, {"all_events": True, "description": "ERP"})
    assert patched.status_code == 200 and patched.json()["all_events"] and patched.json()["description"] == "ERP"
    rotated = call(client, "POST", f"/webhooks/{endpoint.pk}/rotate-secret", auth, {})
    endpoint.refresh_from_db()
    assert rotated.json()["secret"] == endpoint.secret != body["secret"]
    assert call(client, "POST", f"/webhooks/{endpoint.pk}/disable", auth, {}).json()["is_active"] is False
    again = call(client, "POST", f"/webhooks/{endpoint.pk}/disable", auth, {})
    assert again.status_code == 409 and again.json()["code"] == "already_disabled"
    assert call(client, "POST", f"/webhooks/{endpoint.pk}/enable", auth, {}).json()["is_active"] is True
    assert call(client, "DELETE", f"/webhooks/{endpoint.pk}", auth).status_code == 204
    assert not Endpoint.objects.exists()


def test_unknown_event_types_and_unsafe_urls_are_refused(client, auth, settings):
    unknown = call(client, "POST", "/webhooks", auth, {"url": "http://127.0.0.1:9/", "events": ["no.such"]})
    assert unknown.status_code == 400
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    private = call(client, "POST", "/webhooks", auth, {"url": "https://127.0.0.1/hooks"})
    assert private.status_code == 409 and private.json()["code"] == "unsafe_url"
    assert not Endpoint.objects.exists()


def test_the_event_types_are_the_record_events(client, auth):
    types = [t["type"] for t in call(client, "GET", "/webhook-event-types", auth).json()]
    assert types == list(Event.values)


def test_the_delivery_log_pages_and_a_redelivery_keeps_its_webhook_id(client, auth, admin_member, partner):
    endpoint = Endpoint.objects.create(partner=partner, url="http://127.0.0.1:9/hooks", secret="whsec_" + "A" * 44)
    with transaction.atomic():
        for i in range(3):
            record(event=Event.PARTNER_UPDATED, partner=partner, after={"n": i})
    first = call(client, "GET", f"/webhooks/{endpoint.pk}/deliveries?limit=2", auth).json()
    assert len(first["results"]) == 2 and first["next_cursor"]
    rest = call(client, "GET", f"/webhooks/{endpoint.pk}/deliveries?limit=2&cursor={first['next_cursor']}", auth)
    ids = [d["id"] for d in first["results"] + rest.json()["results"]]
    assert ids == sorted(Delivery.objects.filter(endpoint=endpoint).values_list("pk", flat=True), reverse=True)
    delivery = Delivery.objects.get(pk=ids[0])
    pending = call(client, "POST", f"/webhook-deliveries/{delivery.pk}/redeliver", auth, {})
    assert pending.status_code == 409 and pending.json()["code"] == "pending"  # still queued
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", due_at=None)
    redelivered = call(client, "POST", f"/webhook-deliveries/{delivery.pk}/redeliver", auth, {})
    assert redelivered.status_code == 202 and redelivered.json()["event_id"] == delivery.event_id
    assert redelivered.json()["status"] == "queued" and redelivered.json()["next_attempt_at"]
    test = call(client, "POST", f"/webhooks/{endpoint.pk}/test", auth, {})
    assert test.status_code == 202 and test.json()["event"] == "webhook.test"
