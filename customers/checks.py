"""The account check (账号校验, SPEC §3.3): the preconditions of switch, unbind, dissociation
and approval, as one registry.

Each check is a small class with a stable ``code``, the actions it guards and, per action, the
association types it applies to, a failure ``message`` and ``advice`` naming who must act.
Cooldown checks also give the moment the action becomes possible again. ``run_checks`` runs
every applicable check and returns every result, pass or fail, so a page can list them all;
``refusal`` turns the failures into one ``ValidationError``. Forms call them in ``clean()``
and the request services call them again under the row locks. Adding a check touches only
this module: write the class and decorate it with ``@register``.
"""
import calendar
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from customers.models import Association, AssociationRequest, Customer
from organization.models import Partner

Type = Association.Type
Kind = AssociationRequest.Kind


class Action(models.TextChoices):
    """What the check is run for. ``approval`` is the partner approving a customer's
    dissociation: it runs the dissociation's checks and the ones that guard approval."""

    SWITCH = Kind.SWITCH.value, Kind.SWITCH.label
    UNBIND = Kind.UNBIND.value, Kind.UNBIND.label
    DISSOCIATION = Kind.DISSOCIATION.value, Kind.DISSOCIATION.label
    APPROVAL = "approval", _("Approval of a dissociation")


# Confirmation by the customer and approval by the partner re-run the checks of the
# request's own action (SPEC §3.3); approval adds its own on top.
_IMPLIED = {Action.APPROVAL: (Action.DISSOCIATION,)}

BOTH = frozenset(Type.values)
RESELLER = frozenset({Type.RESELLER})
REFERRAL = frozenset({Type.REFERRAL})
ALL_REQUESTS = {Action.SWITCH: BOTH, Action.UNBIND: BOTH, Action.DISSOCIATION: BOTH}


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar ``months``; a day past the end of the target month becomes its
    last day (31 January + 1 month = the last day of February)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def cooldown_months() -> int:
    return settings.PARTNER_CENTER["COOLDOWN_MONTHS"]


@dataclass
class Context:
    """What the checks read. ``handling`` is the request being confirmed or approved: it does
    not count against itself as "another pending request" or as a recent submission."""

    association: Association
    partner: Partner
    customer: Customer
    now: datetime
    handling: AssociationRequest | None = None

    def requests(self):
        qs = AssociationRequest.objects.all()
        return qs.exclude(pk=self.handling.pk) if self.handling is not None else qs


@dataclass(frozen=True)
class CheckResult:
    check: "Check"
    passed: bool
    message: str = ""
    advice: str = ""
    available_on: datetime | None = None

    @property
    def code(self) -> str:
        return self.check.code

    @property
    def title(self) -> str:
        return self.check.title


class Check:
    """One precondition. Subclasses set the attributes and implement ``failing``."""

    code: str
    title: str
    guards: dict[str, frozenset[str]]
    message: str
    advice: str | dict[str, str]

    def applies(self, action: str, association_type: str) -> bool:
        return association_type in self.guards.get(action, ())

    def failing(self, ctx: Context) -> bool:
        raise NotImplementedError

    def advice_for(self, ctx: Context) -> str:
        advice = self.advice
        return str(advice[ctx.association.type] if isinstance(advice, dict) else advice)

    def result(self, ctx: Context) -> CheckResult:
        if not self.failing(ctx):
            return CheckResult(self, passed=True)
        return CheckResult(self, passed=False, message=str(self.message), advice=self.advice_for(ctx))


class CooldownCheck(Check):
    """Fails until ``COOLDOWN_MONTHS`` calendar months after the latest submission that
    ``latest_submission`` finds; the advice names the date it becomes possible again."""

    advice = _("Possible again on %(date)s.")

    def latest_submission(self, ctx: Context) -> datetime | None:
        raise NotImplementedError

    def result(self, ctx: Context) -> CheckResult:
        latest = self.latest_submission(ctx)
        until = add_months(latest, cooldown_months()) if latest is not None else None
        if until is None or ctx.now >= until:
            return CheckResult(self, passed=True)
        return CheckResult(
            self,
            passed=False,
            message=str(self.message) % {"months": cooldown_months()},
            advice=str(self.advice) % {"date": date_format(timezone.localtime(until), "Y-m-d H:i T")},
            available_on=until,
        )


REGISTRY: list[Check] = []


def register(cls: type[Check]) -> type[Check]:
    REGISTRY.append(cls())
    return cls


def _latest(qs) -> datetime | None:
    return qs.order_by("-created_at").values_list("created_at", flat=True).first()


@register
class PartnerRequestCooldown(CooldownCheck):
    code = "cooldown.partner_request"
    title = _("No switch or unbind by this partner in the cooldown period")
    guards = {Action.SWITCH: BOTH, Action.UNBIND: BOTH}
    message = _("This partner submitted a switch or unbind request for this customer in the last %(months)s months.")

    def latest_submission(self, ctx):
        return _latest(
            ctx.requests().filter(
                association__partner=ctx.partner,
                association__customer=ctx.customer,
                kind__in=[Kind.SWITCH, Kind.UNBIND],
            )
        )


@register
class AfterDissociationCooldown(CooldownCheck):
    code = "cooldown.after_dissociation"
    title = _("No dissociation request by the customer in the cooldown period")
    guards = {Action.SWITCH: BOTH, Action.UNBIND: BOTH}
    message = _("The customer submitted a dissociation request from this partner in the last %(months)s months.")

    def latest_submission(self, ctx):
        return _latest(
            ctx.requests().filter(
                association__partner=ctx.partner, association__customer=ctx.customer, kind=Kind.DISSOCIATION
            )
        )


@register
class CustomerRequestCooldown(CooldownCheck):
    code = "cooldown.customer_request"
    title = _("No earlier dissociation request in the cooldown period")
    guards = {Action.DISSOCIATION: BOTH}
    message = _("The customer submitted a dissociation request in the last %(months)s months.")

    def latest_submission(self, ctx):
        return _latest(ctx.requests().filter(association__customer=ctx.customer, kind=Kind.DISSOCIATION))


@register
class PendingRequest(Check):
    code = "request.pending"
    title = _("No other pending request")
    guards = ALL_REQUESTS
    message = _("Another request on this association is pending.")
    advice = _("Handle or cancel the pending request first.")

    def failing(self, ctx):
        pending = ctx.requests().filter(association=ctx.association, status=AssociationRequest.Status.PENDING)
        return pending.count() >= settings.PARTNER_CENTER["PENDING_REQUESTS_PER_ASSOCIATION"]


@register
class ReservedInstances(Check):
    code = "reserved_instances"
    title = _("No unexpired reserved instances")
    guards = {Action.SWITCH: BOTH, Action.UNBIND: RESELLER, Action.DISSOCIATION: RESELLER}
    message = _("The customer has unexpired reserved instances.")
    advice = _("The customer must unsubscribe them first.")

    def failing(self, ctx):
        return ctx.customer.reserved_instances.filter(expires_at__gt=ctx.now).exists()


@register
class OrdersAwaitingPartnerPayment(Check):
    code = "orders.awaiting_partner_payment"
    title = _("No orders waiting for the partner to pay")
    guards = ALL_REQUESTS
    message = _("Orders are waiting for the partner to pay.")
    advice = _("The customer cancels those orders, or the partner pays them.")

    def failing(self, ctx):
        return ctx.customer.orders_awaiting_partner_payment > 0


@register
class MasterWithUnhostedSubs(Check):
    code = "enterprise.master_with_unhosted_subs"
    title = _("Not an enterprise master with sub-accounts that are not financially hosted")
    guards = ALL_REQUESTS
    message = _("The customer is an enterprise master account with sub-accounts that are not financially hosted.")
    advice = _("The customer must remove those sub-accounts from the enterprise first.")

    def failing(self, ctx):
        return (
            ctx.customer.enterprise_role == Customer.EnterpriseRole.MASTER
            and Customer.objects.filter(enterprise_master=ctx.customer, financially_hosted=False).exists()
        )


@register
class UnhostedSub(Check):
    code = "enterprise.unhosted_sub"
    title = _("Not an enterprise sub-account that is not financially hosted")
    guards = ALL_REQUESTS
    message = _("The customer is an enterprise sub-account that is not financially hosted.")
    advice = _("The customer must leave the enterprise master account first.")

    def failing(self, ctx):
        return ctx.customer.enterprise_role == Customer.EnterpriseRole.SUB and not ctx.customer.financially_hosted


@register
class HostedSub(Check):
    code = "enterprise.hosted_sub"
    title = _("Not a financially hosted enterprise sub-account")
    guards = {Action.SWITCH: BOTH, Action.UNBIND: BOTH}
    message = _("The customer is a financially hosted enterprise sub-account.")
    advice = _("Act on its enterprise master account instead.")

    def failing(self, ctx):
        return ctx.customer.enterprise_role == Customer.EnterpriseRole.SUB and ctx.customer.financially_hosted


@register
class Arrears(Check):
    code = "arrears"
    title = _("No arrears")
    guards = ALL_REQUESTS
    message = _("The customer owes money.")
    advice = {
        Type.REFERRAL: _("The customer must top up to clear the arrears."),
        Type.RESELLER: _("The partner must allocate funds to clear the arrears."),
    }

    def failing(self, ctx):
        return ctx.customer.in_arrears


@register
class Postpaid(Check):
    code = "postpaid"
    title = _("Postpaid billing is not enabled")
    guards = {Action.SWITCH: REFERRAL}
    message = _("Postpaid billing is enabled.")
    advice = _("The customer must cancel postpaid billing first.")

    def failing(self, ctx):
        return ctx.customer.postpaid


@register
class InvoiceOwed(Check):
    code = "invoice_owed"
    title = _("No invoice owed")
    guards = {Action.SWITCH: REFERRAL}
    message = _("An invoice is owed.")
    advice = _("The customer must settle it first.")

    def failing(self, ctx):
        return ctx.customer.invoice_owed


@register
class SpecialContract(Check):
    code = "special_contract"
    title = _("No effective special contract")
    guards = {action: RESELLER for action in ALL_REQUESTS}
    message = _("An effective special contract exists.")
    advice = _("Contact the vendor's ecosystem manager.")

    def failing(self, ctx):
        return ctx.customer.special_contract


@register
class CustomerFrozen(Check):
    code = "customer.frozen"
    title = _("The customer account is not frozen")
    guards = {action: RESELLER for action in ALL_REQUESTS}
    message = _("The customer account is frozen.")
    advice = _("The partner must unfreeze it first.")

    def failing(self, ctx):
        return ctx.customer.frozen


@register
class PartnerFrozen(Check):
    code = "partner.frozen"
    title = _("The partner is not frozen")
    guards = {Action.SWITCH: RESELLER, Action.UNBIND: RESELLER, Action.APPROVAL: RESELLER}
    message = _("The partner, or its distributor, is frozen.")
    advice = _("Contact the vendor.")

    def failing(self, ctx):
        return ctx.partner.is_frozen_effectively


_BY_CODE = {check.code: check for check in REGISTRY}


def run_checks(
    *, association: Association, action: str, handling: AssociationRequest | None = None, now: datetime | None = None
) -> list[CheckResult]:
    """Every check that guards ``action`` for this association's type, each with its result,
    in registry order. ``association.partner`` and ``.customer`` are read as they are loaded
    (the services pass the rows they locked)."""
    actions = {action, *_IMPLIED.get(action, ())}
    ctx = Context(
        association=association,
        partner=association.partner,
        customer=association.customer,
        now=now or timezone.now(),
        handling=handling,
    )
    return [check.result(ctx) for check in REGISTRY if any(check.applies(a, association.type) for a in actions)]


def failure_message(code: str) -> str:
    """The failure message of the check with ``code``, for a request closed as failed with
    its failed checks' codes."""
    return str(_BY_CODE[code].message) % {"months": cooldown_months()}


def refusal(results: list[CheckResult]) -> ValidationError | None:
    """One ValidationError listing every failed check (message and advice, coded by the
    check's code), or None when all passed."""
    failed = [r for r in results if not r.passed]
    if not failed:
        return None
    return ValidationError([ValidationError(f"{r.message} {r.advice}", code=r.code) for r in failed])
