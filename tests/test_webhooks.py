"""Webhooks (issue 19, build 4): every operation record reaches the partner's endpoints that want
it, in the record's transaction, signed by the Standard Webhooks scheme, retried with backoff for
three days, logged; an endpoint failing that long is disabled with an e-mail; unsafe URLs are
refused. The receivers are real HTTP servers on loopback (tests/webhook_receiver.py)."""
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from audit.events import Event
from audit.models import OperationRecord
from audit.services import record
from customers.funds import services as funds_services
from customers.models import Association
from notifications.models import OutgoingEmail
from notifications.queue import sweep
from tests.webhook_receiver import Receiver, free_port
from webhooks import net, services
from webhooks.delivery import deliver, purge_old_deliveries, retry_delay
from webhooks.models import Delivery, Endpoint

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def make_endpoint(member, url, **kwargs):
    return services.endpoint_create(actor=member, url=url, **kwargs)


def association_created(partner, customer):
    association = Association.objects.get(customer=customer, status=Association.Status.ACTIVE)
    with transaction.atomic():
        return record(event=Event.ASSOCIATION_CREATED, partner=partner, customer=customer, association=association,
                      after={"type": association.type, "how": "invitation"})


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def test_a_record_is_delivered_signed_with_the_endpoint_secret_and_its_api_representation(
        admin_member, partner, customer, receiver, client, django_capture_on_commit_callbacks):
    endpoint, secret = make_endpoint(admin_member, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        rec = association_created(partner, customer)
    delivery = Delivery.objects.get(record=rec)
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.status_code == 200
    assert delivery.latency_ms is not None
    [request] = [r for r in receiver.requests if r["headers"]["webhook-id"] == delivery.event_id]
    payload = Webhook(secret).verify(request["body"], request["headers"])  # raises when not signed right
    assert payload["type"] == "association.created" and payload["id"] == delivery.event_id
    # The data is the record as API v1 shows it (getRecord).
    from api import services as api_services

    token = api_services.partner_token_create(member=admin_member)[1]
    shown = client.get(f"/api/v1/records/{rec.pk}", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert payload["data"] == shown
    assert payload["data"]["after"] == {"type": "reseller", "how": "invitation"}
    with pytest.raises(WebhookVerificationError):
        Webhook(services.new_secret()).verify(request["body"], request["headers"])


def test_a_rolled_back_change_sends_nothing(admin_member, partner, customer, settings):
    settings.TASKS = DATABASE_TASKS
    from django_tasks_db.models import DBTaskResult

    make_endpoint(admin_member, "http://127.0.0.1:9/hooks")
    deliveries, tasks = Delivery.objects.count(), DBTaskResult.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        association_created(partner, customer)
        assert Delivery.objects.count() == deliveries + 1
        assert DBTaskResult.objects.count() == tasks + 1  # the task is enqueued in the same transaction
        raise RuntimeError("the change fails after its record")
    assert Delivery.objects.count() == deliveries and DBTaskResult.objects.count() == tasks


def test_a_committed_record_has_its_delivery_and_database_task(admin_member, partner, customer, settings):
    settings.TASKS = DATABASE_TASKS
    from django_tasks_db.models import DBTaskResult

    endpoint, _secret = make_endpoint(admin_member, "http://127.0.0.1:9/hooks")
    rec = association_created(partner, customer)
    delivery = Delivery.objects.get(record=rec, endpoint=endpoint)
    task = DBTaskResult.objects.get(pk=delivery.task_id)
    assert task.args_kwargs["args"] == [] and task.task_path.endswith("deliver_webhooks")
    assert task.status == "READY"


def test_a_transaction_enqueues_one_task_for_all_its_deliveries_and_a_rolled_back_savepoint_none(
        admin_member, partner, customer, settings):
    settings.TASKS = DATABASE_TASKS
    from django_tasks_db.models import DBTaskResult

    make_endpoint(admin_member, "http://127.0.0.1:9/a")
    make_endpoint(admin_member, "http://127.0.0.1:9/b")
    tasks = DBTaskResult.objects.count()
    with transaction.atomic():
        records = [record(event=Event.CUSTOMER_FACTS_UPDATED, partner=partner, customer=customer, after={"n": i})
                   for i in range(5)]
    deliveries = Delivery.objects.filter(record__in=records)
    assert deliveries.count() == 10 and DBTaskResult.objects.count() == tasks + 1
    assert deliveries.values("task_id").distinct().count() == 1
    # A savepoint that rolls back takes its task with it: the next record enqueues its own.
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            record(event=Event.CUSTOMER_FACTS_UPDATED, partner=partner, customer=customer, after={"n": "gone"})
            raise RuntimeError
        kept = record(event=Event.CUSTOMER_FACTS_UPDATED, partner=partner, customer=customer, after={"n": "kept"})
    task_ids = set(Delivery.objects.filter(record=kept).values_list("task_id", flat=True))
    assert len(task_ids) == 1 and DBTaskResult.objects.filter(pk__in=task_ids, status="READY").count() == 1
    assert DBTaskResult.objects.count() == tasks + 2


def test_endpoints_get_only_the_events_they_want_and_other_partners_get_none(
        admin_member, partner, customer, other_member):
    everything, _ = make_endpoint(admin_member, "http://127.0.0.1:9/all")
    funds_only, _ = make_endpoint(admin_member, "http://127.0.0.1:9/funds", all_events=False,
                                  events=["funds.allocated"])
    disabled, _ = make_endpoint(admin_member, "http://127.0.0.1:9/off")
    services.endpoint_disable(actor=admin_member, endpoint=disabled)
    theirs, _ = make_endpoint(other_member, "http://127.0.0.1:9/theirs")
    rec = association_created(partner, customer)
    assert set(Delivery.objects.filter(record=rec).values_list("endpoint_id", flat=True)) == {everything.pk}
    partner.balance = Decimal("100.00")
    partner.save(update_fields=["balance"])
    association = Association.objects.get(customer=customer, status=Association.Status.ACTIVE)
    funds_services.funds_allocate(actor=admin_member, association=association, amount=Decimal("5.00"))
    allocated = OperationRecord.objects.get(event="funds.allocated")
    assert set(Delivery.objects.filter(record=allocated).values_list("endpoint_id", flat=True)) == {
        everything.pk, funds_only.pk}
    assert not Delivery.objects.filter(endpoint=theirs).exclude(event__startswith="webhook.").exists()


def test_every_record_event_is_an_event_type_an_endpoint_may_ask_for():
    """Events a later issue adds to audit.events are offered and delivered with no change."""
    from webhooks.fanout import event_types

    assert [value for value, _label in event_types()] == list(Event.values)


def test_one_event_to_two_endpoints_carries_one_event_id(admin_member, partner, customer):
    make_endpoint(admin_member, "http://127.0.0.1:9/a")
    make_endpoint(admin_member, "http://127.0.0.1:9/b")
    rec = association_created(partner, customer)
    assert len(set(Delivery.objects.filter(record=rec).values_list("event_id", flat=True))) == 1
    assert Delivery.objects.filter(record=rec).count() == 2


def test_a_failed_delivery_is_retried_with_exponential_backoff_with_the_same_webhook_id(
        admin_member, partner, customer, settings):
    down = Receiver(status=503)
    endpoint, _ = make_endpoint(admin_member, down.url)
    rec = association_created(partner, customer)
    delivery = Delivery.objects.get(record=rec)
    with down:
        assert deliver(delivery.pk) == "retrying"
        delivery.refresh_from_db()
        assert delivery.status == "queued" and delivery.status_code == 503 and delivery.attempts == 1
        first_due = delivery.due_at
        assert timedelta(seconds=29) < first_due - delivery.last_attempt_at <= timedelta(seconds=31)
        assert deliver(delivery.pk) == "not due or already handled"  # not before it is due
        Delivery.objects.filter(pk=delivery.pk).update(due_at=timezone.now())
        assert deliver(delivery.pk) == "retrying"
        delivery.refresh_from_db()
        assert timedelta(seconds=59) < delivery.due_at - delivery.last_attempt_at <= timedelta(seconds=61)
    assert retry_delay(1) == timedelta(seconds=30) and retry_delay(2) == timedelta(seconds=60)
    assert retry_delay(30) == timedelta(hours=6)  # never more than WEBHOOK_RETRY_MAX_SECONDS apart
    assert len(set(down.ids())) == 1 and len(down.ids()) == 2
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None and endpoint.is_active


def test_retries_span_three_days_then_the_endpoint_is_disabled_and_its_administrators_told(
        admin_member, partner, customer, django_capture_on_commit_callbacks):
    assert services.settings.PARTNER_CENTER["WEBHOOK_RETRY_HOURS"] >= 72
    endpoint, _ = make_endpoint(admin_member, f"http://127.0.0.1:{free_port()}/nobody-listens")
    rec = association_created(partner, customer)
    delivery = Delivery.objects.get(record=rec)
    start = delivery.retry_from
    # Walk the clock: each attempt at its due time, nobody listening.
    attempts = 0
    with django_capture_on_commit_callbacks(execute=True):
        while True:
            delivery.refresh_from_db()
            if delivery.status != "queued":
                break
            with freeze_time(delivery.due_at):
                deliver(delivery.pk)
            attempts += 1
            assert attempts < 40
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.status_code is None and delivery.last_error
    assert delivery.last_attempt_at - start >= timedelta(hours=72)  # retried for three days
    assert 12 <= delivery.attempts <= 25
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "72 hours" in endpoint.disabled_reason
    disabled = OperationRecord.objects.get(event="webhook.disabled")
    assert disabled.actor_id is None and disabled.partner_id == partner.pk
    email = OutgoingEmail.objects.get(kind="webhook_disabled")
    assert email.recipient == admin_member.email and endpoint.url in email.subject
    assert "72 hours" in email.body and "enable it" in email.body


def test_a_success_clears_the_failing_state(admin_member, partner, customer):
    with Receiver(status=500) as down:
        endpoint, _ = make_endpoint(admin_member, down.url)
        first = Delivery.objects.get(record=association_created(partner, customer))
        deliver(first.pk)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    with Receiver(down.port) as up:
        Delivery.objects.filter(pk=first.pk).update(due_at=timezone.now())
        assert deliver(first.pk) == "delivered"
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and len(up.requests) == 1


def test_redirects_are_not_followed(admin_member, partner, customer):
    with Receiver() as target, Receiver(status=302, headers={"Location": "http://127.0.0.1:1/x"}) as redirecting:
        endpoint, _ = make_endpoint(admin_member, redirecting.url)
        delivery = Delivery.objects.get(record=association_created(partner, customer))
        assert deliver(delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert delivery.status_code == 302 and "not followed" in delivery.last_error
    assert target.requests == []


def test_a_receiver_that_does_not_answer_is_cut_off_by_the_read_timeout(admin_member, partner, customer, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "WEBHOOK_READ_TIMEOUT_SECONDS": 1}
    with Receiver(delay=5) as slow:
        make_endpoint(admin_member, slow.url)
        delivery = Delivery.objects.get(record=association_created(partner, customer))
        assert deliver(delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert delivery.status_code is None and "timed out" in delivery.last_error.lower()
    assert 900 <= delivery.latency_ms < 3000


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hooks", "https://localhost/hooks", "https://10.0.0.8/hooks", "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/hooks", "https://[fe80::1]/", "https://0.0.0.0/",
    "https://[::ffff:127.0.0.1]/",
])
def test_urls_inside_the_network_are_refused_unless_allowed(url, settings, admin_member):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(net.UnsafeURL):
        net.resolve(url)
    with pytest.raises(ValidationError):
        make_endpoint(admin_member, url)
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    assert net.resolve(url).address


def test_a_public_address_is_accepted_and_the_connection_is_pinned_to_it(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    monkeypatch.setattr(net.socket, "getaddrinfo", lambda host, port, **kw: [(2, 1, 6, "", ("93.184.215.14", port))])
    target = net.resolve("https://hooks.example.com:8443/in?x=1")
    assert (target.address, target.host, target.port, target.path) == ("93.184.215.14", "hooks.example.com", 8443,
                                                                        "/in?x=1")
    assert target.host_header == "hooks.example.com:8443"
    pool = net._pool(target)
    assert pool.host == "93.184.215.14" and pool.conn_kw.get("server_hostname") == "hooks.example.com"


def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery_too(
        settings, monkeypatch, admin_member, partner, customer):
    endpoint, _ = make_endpoint(admin_member, "http://127.0.0.1:9/hooks")
    Endpoint.objects.filter(pk=endpoint.pk).update(url="http://rebinding.example.com/hooks")
    delivery = Delivery.objects.get(record=association_created(partner, customer))
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    monkeypatch.setattr(net.socket, "getaddrinfo", lambda host, port, **kw: [(2, 1, 6, "", ("10.1.2.3", port))])
    assert deliver(delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert "private" in delivery.last_error and delivery.status_code is None


def test_http_urls_are_refused_unless_allowed(settings, admin_member):
    settings.WEBHOOKS_ALLOW_HTTP = False
    with pytest.raises(ValidationError, match="https://"):
        make_endpoint(admin_member, "http://127.0.0.1:9/hooks")
    with pytest.raises(ValidationError):
        make_endpoint(admin_member, "ftp://127.0.0.1/hooks")


def test_the_sweep_requeues_a_delivery_lost_with_its_worker_and_purges_the_log_after_30_days(
        admin_member, partner, customer, settings, django_capture_on_commit_callbacks):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "TASK_STALE_SECONDS": 60}
    with Receiver() as up:
        make_endpoint(admin_member, up.url)
        lost = Delivery.objects.get(record=association_created(partner, customer))
        long_ago = timezone.now() - timedelta(minutes=5)
        Delivery.objects.filter(pk=lost.pk).update(status="sending", claimed_at=long_ago, attempts=1)
        with django_capture_on_commit_callbacks(execute=True):
            counts = sweep()
        assert counts["requeued_deliveries"] == 1
        lost.refresh_from_db()
        assert lost.status == "delivered" and lost.attempts == 2 and up.ids() == [lost.event_id]
    Delivery.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(days=29))
    assert purge_old_deliveries() == 0
    Delivery.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert purge_old_deliveries() == 1 and not Delivery.objects.filter(pk=lost.pk).exists()


def test_the_log_must_be_kept_at_least_30_days():
    import partnercenter.settings as project_settings
    from partnercenter.env import env_int  # noqa: F401
    source = open(project_settings.__file__).read()
    assert '"PC_WEBHOOK_LOG_DAYS", 30, minimum=30' in source


def test_redeliver_sends_the_same_event_id_again_with_a_fresh_window(
        admin_member, partner, customer, django_capture_on_commit_callbacks):
    with Receiver() as up:
        make_endpoint(admin_member, up.url)
        with django_capture_on_commit_callbacks(execute=True):
            delivery = Delivery.objects.get(record=association_created(partner, customer))
        delivery.refresh_from_db()
        assert delivery.status == "delivered"
        with django_capture_on_commit_callbacks(execute=True):
            services.delivery_redeliver(actor=admin_member, delivery=delivery)
        delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert up.ids().count(delivery.event_id) == 2
    assert json.loads(up.requests[-1]["body"])["id"] == delivery.event_id


def test_a_test_event_is_signed_and_logged(admin_member, django_capture_on_commit_callbacks):
    with Receiver() as up:
        endpoint, secret = make_endpoint(admin_member, up.url)
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.endpoint_send_test(actor=admin_member, endpoint=endpoint)
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.event == "webhook.test"
    [request] = [r for r in up.requests if r["headers"]["webhook-id"] == delivery.event_id]
    assert Webhook(secret).verify(request["body"], request["headers"])["type"] == "webhook.test"


def test_a_rotated_secret_signs_from_then_on(admin_member, django_capture_on_commit_callbacks):
    with Receiver() as up:
        endpoint, old = make_endpoint(admin_member, up.url)
        endpoint, new = services.endpoint_rotate_secret(actor=admin_member, endpoint=endpoint)
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.endpoint_send_test(actor=admin_member, endpoint=endpoint)
    [request] = [r for r in up.requests if r["headers"]["webhook-id"] == delivery.event_id]
    assert new != old and new.startswith("whsec_")
    Webhook(new).verify(request["body"], request["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request["body"], request["headers"])


def test_endpoint_changes_are_recorded_without_the_secret(admin_member):
    endpoint, secret = make_endpoint(admin_member, "http://127.0.0.1:9/hooks")
    services.endpoint_update(actor=admin_member, endpoint=endpoint, url="http://127.0.0.1:9/other", description="x",
                             all_events=False, events=["request.submitted"])
    services.endpoint_disable(actor=admin_member, endpoint=endpoint)
    services.endpoint_enable(actor=admin_member, endpoint=endpoint)
    services.endpoint_rotate_secret(actor=admin_member, endpoint=endpoint)
    services.endpoint_delete(actor=admin_member, endpoint=endpoint)
    events = list(OperationRecord.objects.filter(event__startswith="webhook.").order_by("id").values_list(
        "event", flat=True))
    assert events == ["webhook.created", "webhook.updated", "webhook.disabled", "webhook.enabled",
                      "webhook.secret_rotated", "webhook.deleted"]
    assert not any(secret in json.dumps([r.before, r.after]) for r in OperationRecord.objects.all())
    with pytest.raises(ValidationError):
        services.endpoint_update(actor=admin_member, endpoint=endpoint, url="http://127.0.0.1:9/", description="",
                                 all_events=False, events=[])


def test_the_number_of_endpoints_is_bounded(admin_member, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "WEBHOOK_ENDPOINTS_PER_PARTNER": 2}
    make_endpoint(admin_member, "http://127.0.0.1:9/1")
    make_endpoint(admin_member, "http://127.0.0.1:9/2")
    with pytest.raises(ValidationError):
        make_endpoint(admin_member, "http://127.0.0.1:9/3")


def test_the_system_administrator_role_holds_manage_webhooks(admin_member, viewer):
    assert admin_member.has_perm("webhooks.manage_webhooks")
    assert not viewer.has_perm("webhooks.manage_webhooks")


# Portal ---------------------------------------------------------------------------------------


def test_the_portal_registers_an_endpoint_and_shows_its_secret_once(as_user, admin_member):
    client = as_user(admin_member)
    response = client.post(reverse("webhooks:create"), {"url": "http://127.0.0.1:9/hooks", "description": "ERP",
                                                         "events": ["request.submitted", "funds.allocated"]})
    assert response.status_code == 200
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["funds.allocated", "request.submitted"] and not endpoint.all_events
    assert endpoint.secret in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    detail = client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in detail and "Send test event" in detail
    assert endpoint.secret not in client.get(reverse("webhooks:list")).content.decode()


def test_the_portal_refuses_an_unsafe_url_on_the_form(as_user, admin_member, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = as_user(admin_member).post(reverse("webhooks:create"), {"url": "https://127.0.0.1/x",
                                                                        "all_events": "on"})
    assert response.status_code == 400 and not Endpoint.objects.exists()
    assert "loopback" in response.content.decode()


def test_the_delivery_log_shows_event_attempts_status_code_latency_and_next_retry(
        as_user, admin_member, partner, customer):
    with Receiver(status=500) as down:
        endpoint, _ = make_endpoint(admin_member, down.url)
        delivery = Delivery.objects.get(record=association_created(partner, customer))
        deliver(delivery.pk)
    delivery.refresh_from_db()
    page = as_user(admin_member).get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert "Association created" in page and delivery.event_id in page
    assert f"{delivery.latency_ms} ms" in page and ">500<" in page
    assert timezone.localtime(delivery.due_at).strftime("%Y-%m-%d %H:%M") in page
    assert "Redeliver" not in page.split(delivery.event_id)[1].split("</tr>")[0]  # queued: on its way


def test_the_portal_redelivers_and_edits_and_deletes(as_user, admin_member, partner, customer):
    client = as_user(admin_member)
    endpoint, _ = make_endpoint(admin_member, "http://127.0.0.1:9/hooks")
    delivery = Delivery.objects.get(record=association_created(partner, customer))
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", due_at=None)
    response = client.post(reverse("webhooks:redeliver", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "queued"
    response = client.post(reverse("webhooks:edit", args=[endpoint.pk]),
                           {"url": "http://127.0.0.1:9/new", "all_events": "on"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == "http://127.0.0.1:9/new"
    assert client.post(reverse("webhooks:delete", args=[endpoint.pk])).status_code == 302
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()


def test_the_portal_buttons_disable_enable_and_test_with_a_message_and_refuse_with_one(as_user, admin_member):
    client = as_user(admin_member)
    endpoint, _ = make_endpoint(admin_member, "http://127.0.0.1:9/hooks")
    detail = reverse("webhooks:detail", args=[endpoint.pk])

    def press(name):
        response = client.post(reverse(f"webhooks:{name}", args=[endpoint.pk]), follow=True)
        assert response.redirect_chain == [(detail, 302)]
        return [(m.level_tag, str(m)) for m in response.context["messages"]]

    assert press("disable") == [("success", "The webhook endpoint is disabled: no new events are sent to it.")]
    assert press("disable") == [("error", "This webhook endpoint is already disabled.")]
    assert press("test") == [("error", "Enable the endpoint before sending it a test event.")]
    assert not Delivery.objects.filter(endpoint=endpoint, event="webhook.test").exists()
    assert press("enable") == [("success", "The webhook endpoint is enabled.")]
    assert press("test") == [("success", "A test event is on its way; its delivery is at the top of the log.")]
    assert Delivery.objects.filter(endpoint=endpoint, event="webhook.test").count() == 1
    assert list(OperationRecord.objects.filter(event__startswith="webhook.").order_by("id").values_list(
        "event", flat=True)) == ["webhook.created", "webhook.disabled", "webhook.enabled"]


def test_the_edit_page_shows_the_endpoint_and_a_bad_form_again_with_400(as_user, admin_member):
    client = as_user(admin_member)
    endpoint, _ = make_endpoint(admin_member, "http://127.0.0.1:9/hooks", description="ERP")
    response = client.get(reverse("webhooks:edit", args=[endpoint.pk]))
    assert response.status_code == 200 and 'value="http://127.0.0.1:9/hooks"' in response.content.decode()
    response = client.post(reverse("webhooks:edit", args=[endpoint.pk]), {"url": "http://127.0.0.1:9/new"})
    assert response.status_code == 400 and "Choose at least one event, or all events." in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == "http://127.0.0.1:9/hooks"


def test_the_delivery_log_escapes_what_a_receiver_answered(as_user, admin_member, partner, customer):
    endpoint, _ = make_endpoint(admin_member, "http://127.0.0.1:9/hooks")
    delivery = Delivery.objects.get(record=association_created(partner, customer))
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", last_error="<script>alert(1)</script>")
    page = as_user(admin_member).get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_the_menu_shows_webhooks_to_members_who_may_manage_them(as_user, admin_member, viewer):
    assert reverse("webhooks:list") in as_user(admin_member).get(reverse("organization:profile")).content.decode()
    assert reverse("webhooks:list") not in as_user(viewer).get(reverse("organization:profile")).content.decode()


def test_on_the_rq_backend_a_delivery_is_enqueued_after_the_commit_and_sent_by_an_rq_worker(
        settings, admin_member, partner, customer, django_capture_on_commit_callbacks):
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker

    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:6379/14"}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    queue = django_rq.get_queue("default", job_class=Job)
    queue.connection.flushdb()
    try:
        with Receiver() as up:
            with django_capture_on_commit_callbacks(execute=False) as callbacks:
                endpoint, secret = make_endpoint(admin_member, up.url)
                rec = association_created(partner, customer)
            assert queue.count == 0  # nothing reaches Redis before the commit
            for callback in callbacks:
                callback()
            SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)
            delivery = Delivery.objects.get(record=rec)
            assert delivery.status == "delivered"
            [request] = [r for r in up.requests if r["headers"]["webhook-id"] == delivery.event_id]
            Webhook(secret).verify(request["body"], request["headers"])
    finally:
        queue.connection.flushdb()
