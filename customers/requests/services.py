"""Association requests (SPEC §3.2–§3.4): a partner's switch or unbind, which the customer
confirms or rejects, and a customer's dissociation, which the partner approves or rejects.

Every action locks the partner row, then the customer row, then the association and the
request (the order every service in the portal uses), re-runs the account check of
``customers.checks`` under those locks, changes the request, applies the effects through the
funds services and writes the operation records, all in one transaction. E-mails to both
sides leave after the commit.

Requests past their deadline are settled by ``request_expire_due`` (R7), which the
``expire_requests`` command runs from cron; every action and every page that reads a request
runs it first for that association, so an overdue request never blocks or misleads anyone
while it waits for the next cron run.
"""
import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.events import Event
from audit.services import record
from customers.checks import Action, failure_message, refusal, run_checks
from customers.funds import services as funds
from customers.models import Association, AssociationRequest, Customer, Voucher
from notifications.email import queue_email
from organization.models import Partner, User

logger = logging.getLogger(__name__)

Kind = AssociationRequest.Kind
Status = AssociationRequest.Status
Type = Association.Type
PARTNER_KINDS = (Kind.SWITCH, Kind.UNBIND)
# The permission that submits a partner request of each kind, and cancels it (portal and API).
SUBMIT_PERMISSION = {Kind.SWITCH: "customers.switch_association", Kind.UNBIND: "customers.unbind_association"}

CENT = Decimal("0.01")
_OTHER_TYPE = {Type.REFERRAL: Type.RESELLER, Type.RESELLER: Type.REFERRAL}


def valid_days() -> int:
    return settings.PARTNER_CENTER["REQUEST_VALID_DAYS"]


def format_moment(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i T")


# Reads shared by the pages ------------------------------------------------------------------


def request_effects(*, association: Association, kind: str, to_customer: bool = False) -> list[str]:
    """What completing a ``kind`` request would do to this association (SPEC §3.4), with this
    customer's amounts: the notes both sides read before they consent. ``to_customer`` words
    them to the customer (Account Center) in the second person."""
    partner, customer = association.partner, association.customer
    names = {"partner": partner.name}
    if kind == Kind.SWITCH and association.type == Type.REFERRAL:
        if to_customer:
            return [
                _("Your billing changes: from then on %(partner)s funds your account and invoices you.") % names,
                _("Your own cash balance (%(amount)s) becomes withdraw-only: you can withdraw it, not spend it.")
                % {"amount": customer.cash_balance},
            ]
        return [
            _("The association type changes from Referral to Reseller."),
            _("From then on %(partner)s funds the account and invoices the customer.") % names,
            _("The customer's own cash balance (%(amount)s) becomes withdraw-only: it can be withdrawn, not spent.")
            % {"amount": customer.cash_balance},
        ]
    if kind == Kind.SWITCH:
        if to_customer:
            return [
                _("Your billing changes: from then on you pay the vendor directly and invoice yourself."),
                _("What is left of the balance %(partner)s allocated to you (%(amount)s) returns to %(partner)s.")
                % {**names, "amount": customer.allocated_balance},
            ]
        return [
            _("The association type changes from Reseller to Referral."),
            _("The partner-allocated balance left on the account (%(amount)s) returns to %(partner)s.")
            % {**names, "amount": customer.allocated_balance},
            _("From then on the customer pays the vendor directly and invoices itself."),
        ]
    vouchers = Voucher.objects.filter(partner=partner, customer=customer, status=Voucher.Status.UNUSED).aggregate(
        count=Count("pk"), total=Sum("amount")
    )
    voucher_params = {**names, "count": vouchers["count"], "amount": (vouchers["total"] or Decimal(0)).quantize(CENT)}
    if to_customer:
        return [
            _("Your account is no longer associated with %(partner)s.") % names,
            _("Your unused vouchers from %(partner)s (%(count)s, worth %(amount)s in total) are withdrawn.")
            % voucher_params,
            _("What is left of the balance %(partner)s allocated to you (%(amount)s) returns to %(partner)s.")
            % {**names, "amount": customer.allocated_balance},
            _("Top up and set a payment method so that your services are not stopped."),
        ]
    return [
        _("The association between %(partner)s and the customer ends.") % names,
        _("Unused vouchers issued by %(partner)s (%(count)s, worth %(amount)s in total) return to its voucher quota.")
        % voucher_params,
        _("The partner-allocated balance left on the account (%(amount)s) returns to %(partner)s.")
        % {**names, "amount": customer.allocated_balance},
        _("The customer must top up and set a payment method so that its services are not stopped."),
    ]


def target_type_for(association: Association, kind: str) -> str:
    """The type a switch would change the association to; "" for the other requests."""
    return _OTHER_TYPE[association.type] if kind == Kind.SWITCH else ""


def ensure_open(association_request: AssociationRequest, *, now: datetime | None = None) -> None:
    """Refuse a request that no longer waits for an answer: already handled, or past its
    deadline. Forms call it to explain a stale page; the services call it under the lock."""
    if association_request.status != Status.PENDING:
        raise ValidationError(
            _("This request has already been handled (%(status)s). Nothing was changed."),
            params={"status": association_request.get_status_display()},
            code="stale",
        )
    if association_request.deadline <= (now or timezone.now()):
        raise ValidationError(
            _("This request passed its deadline (%(deadline)s) and can no longer be handled. Nothing was changed."),
            params={"deadline": format_moment(association_request.deadline)},
            code="stale",
        )


# Actions -------------------------------------------------------------------------------------


def request_submit(*, actor: User, association: Association, kind: str, reason: str) -> AssociationRequest:
    """A member asks to switch the association type or to unbind (R4); the customer confirms
    or rejects it in the Account Center before the deadline."""
    if kind not in PARTNER_KINDS:
        raise ValueError(f"{kind!r} is not a partner request")
    reason = _required_reason(reason)
    request_expire_due(association=association)
    with transaction.atomic():
        association, _request = _lock(association.pk)
        _require_partner_side(actor, association)
        _require_active(association)
        now = timezone.now()
        _refuse(run_checks(association=association, action=kind, now=now))
        association_request = _create(
            actor=actor,
            association=association,
            kind=kind,
            target_type=target_type_for(association, kind),
            reason=reason,
            now=now,
        )
    return association_request


def request_submit_dissociation(*, actor: User, association: Association, reason: str) -> AssociationRequest:
    """The customer asks to end its association (R5); the partner approves or rejects it, or
    it is approved automatically after the deadline (R7)."""
    reason = _required_reason(reason)
    request_expire_due(association=association)
    with transaction.atomic():
        association, _request = _lock(association.pk)
        _require_customer_side(actor, association)
        _require_active(association)
        now = timezone.now()
        # Only the customer asks: refused in the customer's words (as the Account Center lists them).
        _refuse(run_checks(association=association, action=Action.DISSOCIATION, now=now, to_customer=True))
        association_request = _create(
            actor=actor, association=association, kind=Kind.DISSOCIATION, target_type="", reason=reason, now=now
        )
    return association_request


def request_cancel(*, actor: User, association_request: AssociationRequest, reason: str = "") -> AssociationRequest:
    """The side that submitted a pending request withdraws it (R6). The cooldown it started
    still runs: a submission counts whatever becomes of it."""
    request_expire_due(association=association_request.association)
    with transaction.atomic():
        association, association_request = _lock(association_request.association_id, association_request.pk)
        if association_request.kind in PARTNER_KINDS:
            _require_partner_side(actor, association)
        else:
            _require_customer_side(actor, association)
        now = timezone.now()
        ensure_open(association_request, now=now)
        _close(association_request, Status.CANCELLED, actor=actor, response=reason.strip(), now=now)
        _record_step(Event.REQUEST_CANCELLED, actor, association_request, reason=reason.strip())
        _notify(association_request)
    return association_request


def request_confirm(*, actor: User, association_request: AssociationRequest, reason: str = "") -> AssociationRequest:
    """The customer agrees to its partner's switch or unbind: the account check of the
    request's action runs again under the lock, and only if it passes does the association
    switch type or end, with the effects of SPEC §3.4."""
    request_expire_due(association=association_request.association)
    with transaction.atomic():
        association, association_request = _lock(association_request.association_id, association_request.pk)
        _require_customer_side(actor, association)
        _require_partner_request(association_request)
        now = timezone.now()
        ensure_open(association_request, now=now)
        _require_active(association)
        # Only the customer confirms: refused in the customer's words.
        results = run_checks(
            association=association, action=association_request.kind, handling=association_request, now=now,
            to_customer=True,
        )
        _refuse(results)
        _close(association_request, Status.CONFIRMED, actor=actor, response=reason.strip(), now=now)
        _record_step(Event.REQUEST_CONFIRMED, actor, association_request, reason=reason.strip())
        if association_request.kind == Kind.SWITCH:
            _switch(actor=actor, association=association, association_request=association_request)
        else:
            _end(actor=actor, association=association, association_request=association_request,
                 end_reason=Association.EndReason.UNBIND, now=now)
        _notify(association_request)
    return association_request


def request_reject(*, actor: User, association_request: AssociationRequest, reason: str) -> AssociationRequest:
    """The side asked rejects the request: the customer a switch or unbind, the partner a
    dissociation. Nothing else changes, so no check runs."""
    reason = _required_reason(reason)
    request_expire_due(association=association_request.association)
    with transaction.atomic():
        association, association_request = _lock(association_request.association_id, association_request.pk)
        if association_request.kind in PARTNER_KINDS:
            _require_customer_side(actor, association)
        else:
            _require_partner_side(actor, association)
        now = timezone.now()
        ensure_open(association_request, now=now)
        _close(association_request, Status.REJECTED, actor=actor, response=reason, now=now)
        _record_step(Event.REQUEST_REJECTED, actor, association_request, reason=reason)
        _notify(association_request)
    return association_request


def request_approve(*, actor: User, association_request: AssociationRequest, reason: str = "") -> AssociationRequest:
    """The partner approves a customer's dissociation (R5): the dissociation's checks and the
    approval's own (a frozen partner cannot approve for a reseller customer, R15) run again
    under the lock; the association ends with the effects of SPEC §3.4."""
    request_expire_due(association=association_request.association)
    with transaction.atomic():
        association, association_request = _lock(association_request.association_id, association_request.pk)
        _require_partner_side(actor, association)
        if association_request.kind != Kind.DISSOCIATION:
            raise ValidationError(_("Only a customer's dissociation request is approved by the partner."), code="kind")
        now = timezone.now()
        ensure_open(association_request, now=now)
        _require_active(association)
        _refuse(run_checks(association=association, action=Action.APPROVAL, handling=association_request, now=now))
        _close(association_request, Status.APPROVED, actor=actor, response=reason.strip(), now=now)
        _record_step(Event.REQUEST_APPROVED, actor, association_request, reason=reason.strip())
        _end(actor=actor, association=association, association_request=association_request,
             end_reason=Association.EndReason.DISSOCIATION, now=now)
        _notify(association_request)
    return association_request


def request_expire_due(
    *,
    now: datetime | None = None,
    association: Association | None = None,
    partner: Partner | None = None,
    limit: int | None = None,
) -> list[AssociationRequest]:
    """Settle pending requests past their deadline (R7), oldest deadline first: a partner's
    switch or unbind expires; a customer's dissociation is approved automatically when the
    account check, re-run now under the lock, passes, and otherwise closes as failed with the
    failed checks' codes. Each request is settled in its own transaction so that one cannot
    hold back the others. Returns the requests settled."""
    now = now or timezone.now()
    due = AssociationRequest.objects.filter(status=Status.PENDING, deadline__lte=now)
    if association is not None:
        due = due.filter(association=association)
    if partner is not None:
        due = due.filter(association__partner=partner)
    ids = list(due.order_by("deadline", "pk").values_list("pk", "association_id")[:limit])
    settled = [_settle(request_id, association_id, now) for request_id, association_id in ids]
    return [r for r in settled if r is not None]


# Reads that settle first ---------------------------------------------------------------------
# What a page or an API operation reads before showing or acting on a request: the overdue
# request of the association is settled first (R7), and the object read again if it was,
# since settling may have ended the association. Every such read goes through _settled.


def _settled(read, association_of, *, now: datetime | None = None, overdue=None):
    """``read()``, and ``read()`` again after settling the overdue requests of
    ``association_of(value)`` (None: nothing to settle) when there were any. ``overdue(value)``,
    given when the value holds the pending requests already, says whether to look at all, so a
    page without an overdue request spends no statement on settling. Returns the value and
    whether anything was settled."""
    value = read()
    association = association_of(value)
    if association is None or (overdue is not None and not overdue(value)):
        return value, False
    if request_expire_due(association=association, now=now):
        return read(), True
    return value, False


def own_association_settled(user, customer_pk) -> Association:
    """The member's own active association with customer ``customer_pk`` (404 otherwise)."""
    from customers.selectors import own_association_for_member

    association, _settled_any = _settled(
        lambda: own_association_for_member(user, customer_pk, facts=True), lambda a: a,
        overdue=lambda a: a.association_overdue,
    )
    return association


def own_association_and_pending(user, customer_pk, now: datetime):
    """As :func:`own_association_settled`, with the association's pending requests
    (``pending_request_overview``) read once: an overdue one is settled only when the overview
    shows one."""
    from customers.requests.selectors import pending_request_overview
    from customers.selectors import own_association_for_member

    def read():
        association = own_association_for_member(user, customer_pk, facts=True)
        return association, pending_request_overview(association)

    (association, pending), _settled_any = _settled(
        read, lambda value: value[0], now=now, overdue=lambda value: value[1].overdue(now)
    )
    return association, pending


def customer_page_settled(user, customer_pk, now: datetime):
    """The partner's customer page (``customers.selectors.customer_page_for_member``: 404
    outside the member's scope) and its current association's ``association_request_overview``
    (None without one), read once when no pending request is overdue."""
    from customers.requests.selectors import association_request_overview
    from customers.selectors import customer_page_for_member

    def read():
        page = customer_page_for_member(user, customer_pk, now=now)
        return page, association_request_overview(page.current) if page.current is not None else None

    (page, overview), _settled_any = _settled(
        read, lambda value: value[0].current, now=now, overdue=lambda value: value[1].overdue(now)
    )
    return page, overview


def account_center_settled(customer: Customer, now: datetime):
    """The Account Center's view of ``customer``: its active association (or None) and its
    ``customer_request_overview``, read once when no pending request is overdue. When one was
    settled (a dissociation approved now ends the association and moves money), ``customer``
    is read again too."""
    from customers.requests.selectors import account_center_association, customer_request_overview

    def read():
        return account_center_association(customer), customer_request_overview(customer)

    (association, overview), settled = _settled(
        read, lambda value: value[0], now=now, overdue=lambda value: value[1].overdue(now)
    )
    if settled:
        customer.refresh_from_db()
    return association, overview


def request_for_member_settled(user, request_pk) -> AssociationRequest:
    from customers.requests.selectors import request_for_member

    association_request, _settled_any = _settled(
        lambda: request_for_member(user, request_pk), lambda r: r.association, overdue=lambda r: r.association_overdue
    )
    return association_request


def request_for_customer_settled(customer: Customer, request_pk) -> AssociationRequest:
    from customers.requests.selectors import request_for_customer

    association_request, _settled_any = _settled(
        lambda: request_for_customer(customer, request_pk), lambda r: r.association,
        overdue=lambda r: r.association_overdue,
    )
    return association_request


def customer_association_settled(customer: Customer) -> Association | None:
    """The customer's active association, or None (settling may have just ended it)."""
    from customers.requests.selectors import active_association_for_customer

    association, _settled_any = _settled(lambda: active_association_for_customer(customer), lambda a: a)
    return association


# Steps ---------------------------------------------------------------------------------------


def _settle(request_id: int, association_id: int, now: datetime) -> AssociationRequest | None:
    with transaction.atomic():
        association, association_request = _lock(association_id, request_id)
        if association_request.status != Status.PENDING or association_request.deadline > now:
            return None  # handled while we waited for the lock
        if association_request.kind in PARTNER_KINDS or not association.is_active:
            _close(association_request, Status.EXPIRED, actor=None, response="", now=now)
            _record_step(Event.REQUEST_EXPIRED, None, association_request)
        else:
            results = run_checks(
                association=association, action=Action.DISSOCIATION, handling=association_request, now=now
            )
            failed = [r.code for r in results if not r.passed]
            if failed:
                association_request.failure_codes = failed
                _close(association_request, Status.FAILED, actor=None, response="", now=now)
                _record_step(Event.REQUEST_FAILED, None, association_request, extra={"failed_checks": failed})
            else:
                _close(association_request, Status.AUTO_APPROVED, actor=None, response="", now=now)
                _record_step(Event.REQUEST_AUTO_APPROVED, None, association_request)
                _end(actor=None, association=association, association_request=association_request,
                     end_reason=Association.EndReason.DISSOCIATION_AUTO, now=now)
        _notify(association_request)
    return association_request


def _lock(association_id: int, request_id: int | None = None) -> tuple[Association, AssociationRequest | None]:
    partner_id, customer_id = Association.objects.values_list("partner_id", "customer_id").get(pk=association_id)
    partner = Partner.objects.select_for_update(of=("self",)).select_related("distributor").get(pk=partner_id)
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    association = Association.objects.select_for_update().get(pk=association_id)
    association.partner, association.customer = partner, customer
    association_request = None
    if request_id is not None:
        association_request = AssociationRequest.objects.select_for_update().get(pk=request_id)
        association_request.association = association
    return association, association_request


def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Enter a reason."), code="reason")
    return reason


def _refuse(results) -> None:
    error = refusal(results)
    if error is not None:
        raise error


def _require_partner_side(actor: User, association: Association) -> None:
    if not (actor.is_member and actor.partner_id == association.partner_id):
        raise ValidationError(_("Only the partner of this association can do this."), code="side")


def _require_customer_side(actor: User, association: Association) -> None:
    if not (actor.is_customer and association.customer.user_id == actor.pk):
        raise ValidationError(_("Only the customer of this association can do this."), code="side")


def _require_partner_request(association_request: AssociationRequest) -> None:
    if association_request.kind not in PARTNER_KINDS:
        raise ValidationError(_("Only a partner's switch or unbind request is confirmed by the customer."), code="kind")


def _require_active(association: Association) -> None:
    if not association.is_active:
        raise ValidationError(_("This association has ended. Nothing was changed."), code="ended")


def _create(*, actor, association, kind, target_type, reason, now) -> AssociationRequest:
    association_request = AssociationRequest.objects.create(
        association=association,
        kind=kind,
        target_type=target_type,
        reason=reason,
        requested_by=actor,
        created_at=now,
        deadline=now + timedelta(days=valid_days()),
    )
    record(
        event=Event.REQUEST_SUBMITTED,
        actor=actor,
        partner=association.partner,
        customer=association.customer,
        association=association,
        association_request=association_request,
        reason=reason,
        after={
            "kind": kind,
            "target_type": target_type,
            "status": Status.PENDING,
            "deadline": association_request.deadline.isoformat(),
        },
    )
    _notify(association_request)
    return association_request


def _close(association_request, status, *, actor, response, now) -> None:
    association_request.status = status
    association_request.handled_at = now
    association_request.handled_by = actor
    association_request.response_reason = response
    association_request.save(update_fields=["status", "handled_at", "handled_by", "response_reason", "failure_codes"])


def _record_step(event, actor, association_request, *, reason: str = "", extra: dict | None = None) -> None:
    association = association_request.association
    record(
        event=event,
        actor=actor,
        partner=association.partner,
        customer=association.customer,
        association=association,
        association_request=association_request,
        reason=reason,
        before={"status": Status.PENDING},
        after={"status": association_request.status, "kind": association_request.kind, **(extra or {})},
    )


def _switch(*, actor, association: Association, association_request: AssociationRequest) -> None:
    customer = association.customer
    before, after = {"type": association.type}, {"type": association_request.target_type}
    if association_request.target_type == Type.RESELLER:
        # From now on the partner funds the account; what the customer paid in before may
        # only be withdrawn (SPEC §3.4).
        before["cash_withdraw_only"], after["cash_withdraw_only"] = customer.cash_withdraw_only, True
        customer.cash_withdraw_only = True
        customer.save(update_fields=["cash_withdraw_only"])
    else:
        funds.balance_return_on_end(actor=actor, association=association, reason=association_request.reason)
    association.type = association_request.target_type
    association.save(update_fields=["type"])
    _close_others(association, association_request)
    record(
        event=Event.ASSOCIATION_SWITCHED,
        actor=actor,
        partner=association.partner,
        customer=customer,
        association=association,
        association_request=association_request,
        reason=association_request.reason,
        before=before,
        after=after,
    )
    if association.type == Type.RESELLER:
        from customers.controls.services import reseller_customer_started

        reseller_customer_started(association=association)


def _close_others(association: Association, completed: AssociationRequest, *, now: datetime | None = None) -> None:
    """When the setting allows more than one pending request per association (R6, R10), the
    others were asked of an association that has just changed: they close as cancelled, by
    nobody, with a record naming the request that completed. With the default of one there
    are none."""
    now = now or timezone.now()
    others = AssociationRequest.objects.select_for_update().filter(association=association, status=Status.PENDING)
    for other in others.exclude(pk=completed.pk).order_by("pk"):
        other.association = association
        _close(other, Status.CANCELLED, actor=None, response="", now=now)
        _record_step(Event.REQUEST_CANCELLED, None, other, extra={"closed_by_request": completed.pk})
        _notify(other)


def _end(*, actor, association: Association, association_request: AssociationRequest, end_reason, now) -> None:
    funds.vouchers_recover_all(actor=actor, association=association, reason=association_request.reason)
    funds.balance_return_on_end(actor=actor, association=association, reason=association_request.reason)
    association.status = Association.Status.ENDED
    association.ended_at = now
    association.end_reason = end_reason
    association.save(update_fields=["status", "ended_at", "end_reason"])
    _close_others(association, association_request, now=now)
    _clear_manager(actor=actor, association=association, reason=association_request.reason)
    record(
        event=Event.ASSOCIATION_ENDED,
        actor=actor,
        partner=association.partner,
        customer=association.customer,
        association=association,
        association_request=association_request,
        reason=association_request.reason,
        before={"status": Association.Status.ACTIVE},
        after={"status": Association.Status.ENDED, "end_reason": end_reason},
    )


def _clear_manager(*, actor, association: Association, reason: str) -> None:
    """The customer manager is a member of the partner whose association just ended: the next
    partner must not see them (issue 15), so the customer leaves with no manager, recorded."""
    customer = association.customer
    if customer.manager_id is None:
        return
    record(
        event=Event.CUSTOMER_MANAGER_ASSIGNED,
        actor=actor,
        partner=association.partner,
        customer=customer,
        association=association,
        reason=reason,
        before={"manager": customer.manager_id},
        after={"manager": None},
    )
    customer.manager = None
    customer.save(update_fields=["manager"])


# E-mail ----------------------------------------------------------------------------------------


def _notify(association_request: AssociationRequest) -> None:
    """E-mail the customer and the partner side about the request's new state, each in their
    own language where known: queued with the change (notifications.email), sent by a worker."""
    association = association_request.association
    customer = association.customer
    language = customer.user.language if customer.user_id else ""
    recipients = [(customer.email, language, "customer")] if customer.email else []
    if association_request.kind in PARTNER_KINDS:
        requester = association_request.requested_by
        members = [requester] if requester is not None and requester.is_active else []
    else:
        members = User.objects.filter(partner=association.partner, is_partner_admin=True, is_active=True)
    recipients += [(m.email, m.language, "partner") for m in members if m.email]
    for to, language, audience in recipients:
        _queue_email(association_request, to, language, audience)


def _queue_email(association_request: AssociationRequest, to: str, language: str, audience: str) -> None:
    association = association_request.association
    with translation.override(language or settings.LANGUAGE_CODE):
        context = {
            "association_request": association_request,
            "association": association,
            "audience": audience,
            "deadline": format_moment(association_request.deadline),
            "failures": [failure_message(code) for code in association_request.failure_codes],
        }
        subject = _("%(request)s for %(account)s: %(status)s") % {
            "request": association_request.get_kind_display(),
            "account": association.customer.account_name,
            "status": association_request.get_status_display(),
        }
        body = render_to_string("customers/requests/email.txt", context)
    queue_email(to=to, subject=subject, body=body, kind="association_request")
