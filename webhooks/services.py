"""A partner's webhook endpoints: register, change, disable and enable, rotate the secret,
delete, send a test event, redeliver. Each is one transaction that locks the partner row, then
the endpoint, and writes its operation record (which is itself an event for the partner's
endpoints, webhooks.fanout)."""
import base64
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.events import Event
from audit.services import record
from notifications.email import queue_email
from organization.models import Partner, User
from webhooks import net
from webhooks.fanout import TEST_EVENT, body_of, event_types, new_event_id, trigger
from webhooks.models import Delivery, Endpoint


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_url(url: str) -> None:
    """Refuse a URL the worker would refuse (scheme, an address inside the network)."""
    try:
        net.resolve(url)
    except net.UnsafeURL as exc:
        raise ValidationError(str(exc), code="unsafe_url") from None


def _check_events(all_events: bool, events: list[str]) -> list[str]:
    known = {value for value, _label in event_types()}
    unknown = sorted(set(events) - known)
    if unknown:
        raise ValidationError(_("Unknown event types: %(events)s.") % {"events": ", ".join(unknown)},
                              code="unknown_events")
    if not all_events and not events:
        raise ValidationError(_("Choose at least one event, or all events."), code="no_events")
    return [] if all_events else sorted(set(events))


def _lock(endpoint: Endpoint) -> tuple[Partner, Endpoint]:
    partner = Partner.objects.select_for_update().get(pk=endpoint.partner_id)
    try:
        return partner, Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    except Endpoint.DoesNotExist:
        raise ValidationError(_("This webhook endpoint no longer exists."), code="gone") from None


def _shown(endpoint: Endpoint) -> dict:
    """What a record keeps of an endpoint (never its secret)."""
    return {"endpoint": endpoint.pk, "url": endpoint.url, "description": endpoint.description,
            "all_events": endpoint.all_events, "events": list(endpoint.events), "is_active": endpoint.is_active}


@transaction.atomic
def endpoint_create(*, actor, url: str, description: str = "", all_events: bool = True,
                    events: list[str] | None = None) -> tuple[Endpoint, str]:
    """A new endpoint of the actor's partner, and its secret (shown to the actor this once)."""
    partner = Partner.objects.select_for_update().get(pk=actor.partner_id)
    events = _check_events(all_events, events or [])
    check_url(url)
    limit = settings.PARTNER_CENTER["WEBHOOK_ENDPOINTS_PER_PARTNER"]
    if Endpoint.objects.filter(partner=partner).count() >= limit:
        raise ValidationError(_("Your organization already has %(limit)s webhook endpoints, the most it may have.")
                              % {"limit": limit}, code="endpoint_limit")
    secret = new_secret()
    endpoint = Endpoint.objects.create(partner=partner, url=url, description=description, all_events=all_events,
                                       events=events, secret=secret, created_by=actor)
    record(event=Event.WEBHOOK_CREATED, actor=actor, partner=partner, after=_shown(endpoint))
    return endpoint, secret


@transaction.atomic
def endpoint_update(*, actor, endpoint: Endpoint, url: str, description: str, all_events: bool,
                    events: list[str]) -> Endpoint:
    partner, endpoint = _lock(endpoint)
    events = _check_events(all_events, events)
    check_url(url)
    before = _shown(endpoint)
    endpoint.url, endpoint.description, endpoint.all_events, endpoint.events = url, description, all_events, events
    endpoint.save(update_fields=["url", "description", "all_events", "events"])
    record(event=Event.WEBHOOK_UPDATED, actor=actor, partner=partner, before=before, after=_shown(endpoint))
    return endpoint


@transaction.atomic
def endpoint_disable(*, actor, endpoint: Endpoint) -> Endpoint:
    """No new events go to a disabled endpoint; those queued for it fail when their turn comes."""
    partner, endpoint = _lock(endpoint)
    if not endpoint.is_active:
        raise ValidationError(_("This webhook endpoint is already disabled."), code="already_disabled")
    return _disable(actor=actor, partner=partner, endpoint=endpoint, reason=_("Disabled by %(member)s.")
                    % {"member": actor})


def _disable(*, actor, partner, endpoint, reason: str) -> Endpoint:
    before = _shown(endpoint)
    endpoint.is_active, endpoint.disabled_reason = False, reason[:200]
    endpoint.save(update_fields=["is_active", "disabled_reason"])
    record(event=Event.WEBHOOK_DISABLED, actor=actor, partner=partner, reason=reason, before=before,
           after=_shown(endpoint))
    return endpoint


@transaction.atomic
def endpoint_enable(*, actor, endpoint: Endpoint) -> Endpoint:
    partner, endpoint = _lock(endpoint)
    if endpoint.is_active:
        raise ValidationError(_("This webhook endpoint is already active."), code="already_active")
    before = _shown(endpoint)
    endpoint.is_active, endpoint.disabled_reason, endpoint.failing_since = True, "", None
    endpoint.save(update_fields=["is_active", "disabled_reason", "failing_since"])
    record(event=Event.WEBHOOK_ENABLED, actor=actor, partner=partner, before=before, after=_shown(endpoint))
    return endpoint


@transaction.atomic
def endpoint_disable_after_failures(*, endpoint: Endpoint) -> Endpoint | None:
    """The worker's: every delivery to the endpoint has failed for ``WEBHOOK_RETRY_HOURS``.
    Disable it and tell the partner's administrators by e-mail, each in their language."""
    partner, endpoint = _lock(endpoint)
    hours = settings.PARTNER_CENTER["WEBHOOK_RETRY_HOURS"]
    failing = endpoint.failing_since is not None and timezone.now() - endpoint.failing_since >= timedelta(hours=hours)
    if not endpoint.is_active or not failing:  # checked again under the lock: a success may have come
        return None
    # Written in the language the worker runs in (the site's), as every stored reason is.
    reason = _("Every delivery failed for %(hours)s hours.") % {"hours": hours}
    _disable(actor=None, partner=partner, endpoint=endpoint, reason=reason)
    admins = User.objects.filter(partner=partner, kind=User.Kind.MEMBER, is_partner_admin=True, is_active=True)
    for admin in admins.exclude(email=""):
        with translation.override(admin.language or settings.LANGUAGE_CODE):
            subject = _("Webhook endpoint disabled: %(url)s") % {"url": endpoint.url}
            body = render_to_string("webhooks/disabled_email.txt", {"endpoint": endpoint, "hours": hours,
                                                                     "member": admin})
        queue_email(to=admin.email, subject=subject, body=body, kind="webhook_disabled")
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, actor, endpoint: Endpoint) -> tuple[Endpoint, str]:
    """A new secret signs every attempt from now on (retries of earlier events too)."""
    partner, endpoint = _lock(endpoint)
    secret = new_secret()
    endpoint.secret, endpoint.secret_rotated_at = secret, timezone.now()
    endpoint.save(update_fields=["secret", "secret_rotated_at"])
    record(event=Event.WEBHOOK_SECRET_ROTATED, actor=actor, partner=partner, after={"endpoint": endpoint.pk})
    return endpoint, secret


@transaction.atomic
def endpoint_delete(*, actor, endpoint: Endpoint) -> None:
    """The endpoint and its delivery log go."""
    partner, endpoint = _lock(endpoint)
    before = _shown(endpoint)
    endpoint.delete()
    record(event=Event.WEBHOOK_DELETED, actor=actor, partner=partner, before=before)


@transaction.atomic
def endpoint_send_test(*, actor, endpoint: Endpoint) -> Delivery:
    """A ``webhook.test`` event to this one endpoint, signed and logged like any other."""
    _partner, endpoint = _lock(endpoint)
    if not endpoint.is_active:
        raise ValidationError(_("Enable the endpoint before sending it a test event."), code="disabled")
    now = timezone.now()
    event_id = new_event_id()
    body = body_of(event_id=event_id, event=TEST_EVENT, timestamp=now, data={
        "endpoint_id": endpoint.pk, "sent_by": str(actor), "message": "This is a test event from Partner Center."})
    delivery = Delivery.objects.create(endpoint=endpoint, event_id=event_id, event=TEST_EVENT, body=body,
                                       created_at=now, due_at=now, retry_from=now)
    trigger(delivery)
    return delivery


@transaction.atomic
def delivery_redeliver(*, actor, delivery: Delivery) -> Delivery:
    """Send the event again (same body, same ``webhook-id``), with a fresh retry window."""
    _partner, endpoint = _lock(delivery.endpoint)
    if not endpoint.is_active:
        raise ValidationError(_("Enable the endpoint before redelivering to it."), code="disabled")
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status in (Delivery.Status.QUEUED, Delivery.Status.SENDING):
        raise ValidationError(_("This event is already on its way."), code="pending")
    now = timezone.now()
    delivery.status, delivery.due_at, delivery.retry_from, delivery.claimed_at = Delivery.Status.QUEUED, now, now, None
    delivery.save(update_fields=["status", "due_at", "retry_from", "claimed_at"])
    trigger(delivery)
    return delivery
