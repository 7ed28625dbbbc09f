"""The account check (账号校验, SPEC §3.3 and R3): the preconditions of switch, unbind,
dissociation, approval and of accepting an invitation or a public link, as one registry.

Each check is a small class with a stable ``code``, the actions it guards and, per action, the
association types it applies to, a failure ``message`` and ``advice`` naming who must act.
Acceptance speaks to the customer about their own account before any partner is involved, so a
check may word its failure differently for it (``wording``); the condition is written once.
Each failure also says who can act on it (``acts``: the customer, the partner, the vendor; none
for a cooldown, which clears by itself), and a cooldown the moment it clears. ``run_checks`` (a
request on an association) and ``accept_checks`` (a customer accepting an offer) run every
applicable check and return every result, pass or fail, so a page can list them all;
``refusal`` turns the failures into one ``ValidationError``. Forms and pages call them, and
the services call them again under the row locks. Adding a check touches only this module:
write the class and decorate it with ``@register``.
"""
import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Max, Q
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
    ACCEPT = "accept", _("Acceptance of an invitation or a public link")


# Confirmation by the customer and approval by the partner re-run the checks of the
# request's own action (SPEC §3.3); approval adds its own on top.
_IMPLIED = {Action.APPROVAL: (Action.DISSOCIATION,)}

BOTH = frozenset(Type.values)
RESELLER = frozenset({Type.RESELLER})
REFERRAL = frozenset({Type.REFERRAL})
ALL_REQUESTS = {Action.SWITCH: BOTH, Action.UNBIND: BOTH, Action.DISSOCIATION: BOTH}
Origin = Association.Origin

# Who can act on a failed check (the API's ``who_acts``).
CUSTOMER, PARTNER, VENDOR = "customer", "partner", "vendor"
WHO_ACTS = (CUSTOMER, PARTNER, VENDOR)


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
    """What the checks read. ``type`` is the association's type (or the offered one when
    accepting, where there is no ``association`` yet and ``origin`` says how it is offered).
    ``handling`` is the request being confirmed or approved: it does not count against itself
    as "another pending request" or as a recent submission."""

    action: str
    partner: Partner
    customer: Customer
    type: str
    now: datetime
    association: Association | None = None
    origin: str | None = None
    handling: AssociationRequest | None = None
    _request_facts: dict | None = field(default=None, init=False, repr=False)
    # Worded for the customer (the Account Center): ``Check.to_customer`` replaces the title,
    # message and advice it names.
    to_customer: bool = False

    def requests(self):
        qs = AssociationRequest.objects.all()
        return qs.exclude(pk=self.handling.pk) if self.handling is not None else qs

    def request_facts(self) -> dict:
        """What the request checks read of the customer's requests (the handled one left
        out), in one statement for them all, read once per run: the latest submission of
        each cooldown and the association's pending count."""
        if self._request_facts is None:
            by_partner = Q(association__partner=self.partner)
            dissociation = Q(kind=Kind.DISSOCIATION)
            self._request_facts = self.requests().filter(association__customer=self.customer).aggregate(
                partner_request=Max("created_at", filter=by_partner & Q(kind__in=[Kind.SWITCH, Kind.UNBIND])),
                partner_dissociation=Max("created_at", filter=by_partner & dissociation),
                dissociation=Max("created_at", filter=dissociation),
                pending=Count(
                    "pk",
                    filter=Q(association=self.association, status=AssociationRequest.Status.PENDING)
                    if self.association is not None
                    else Q(pk__in=[]),
                ),
            )
        return self._request_facts

    def has_unexpired_reserved_instances(self) -> bool:
        """Whether the customer has reserved instances not yet expired: the answer the
        association was read with when a page read it with its facts
        (``customers.selectors.association_facts``), else asked here. The services' locked rows
        carry no facts, so under the lock the database is asked."""
        known = getattr(self.association, "has_unexpired_reserved_instances", None)
        if known is not None and self.association.customer_id == self.customer.pk:
            return known
        return self.customer.reserved_instances.filter(expires_at__gt=self.now).exists()


@dataclass(frozen=True)
class CheckResult:
    check: "Check"
    passed: bool
    message: str = ""
    advice: str = ""
    available_on: datetime | None = None
    # Who can act on the failure, from WHO_ACTS; empty when it passed or clears by itself.
    who_acts: tuple[str, ...] = ()
    to_customer: bool = False

    @property
    def code(self) -> str:
        return self.check.code

    @property
    def title(self) -> str:
        if self.to_customer and "title" in self.check.to_customer:
            return self.check.to_customer["title"]
        return self.check.title


class Check:
    """One precondition. Subclasses set the attributes and implement ``failing``."""

    code: str
    title: str
    guards: dict[str, frozenset[str]]
    message: str
    advice: str | dict[str, str]
    # Per action, a (message, advice) pair that replaces the ones above for it.
    wording: dict[str, tuple[str, str]] = {}
    # The title, message and advice in the customer's words (second person), where they differ:
    # the Account Center lists the checks with these. ``advice`` may be per type, as above.
    to_customer: dict = {}
    # The ways of being offered an association the check applies to, when accepting.
    origins = frozenset(Origin.values)
    # Who can act on a failure (per association type where it differs); when accepting, the
    # customer unless ``accept_acts`` says otherwise.
    acts: tuple[str, ...] | dict[str, tuple[str, ...]] = (CUSTOMER,)
    accept_acts: tuple[str, ...] = (CUSTOMER,)

    def applies(self, action: str, association_type: str, origin: str | None = None) -> bool:
        return association_type in self.guards.get(action, ()) and (origin is None or origin in self.origins)

    def failing(self, ctx: Context) -> bool:
        raise NotImplementedError

    def params(self, ctx: Context) -> dict:
        """The placeholders of the failure's message and advice."""
        return {}

    def message_and_advice(self, ctx: Context) -> tuple[str, str]:
        if ctx.action in self.wording:
            return self.wording[ctx.action]
        voice = self.to_customer if ctx.to_customer else {}
        advice = voice.get("advice", self.advice)
        return voice.get("message", self.message), advice[ctx.type] if isinstance(advice, dict) else advice

    def who_acts(self, ctx: Context) -> tuple[str, ...]:
        if ctx.action == Action.ACCEPT:
            return self.accept_acts
        return self.acts[ctx.type] if isinstance(self.acts, dict) else self.acts

    def result(self, ctx: Context) -> CheckResult:
        if not self.failing(ctx):
            return CheckResult(self, passed=True, to_customer=ctx.to_customer)
        message, advice = self.message_and_advice(ctx)
        params = self.params(ctx)
        return CheckResult(
            self, passed=False, message=str(message) % params, advice=str(advice) % params,
            who_acts=self.who_acts(ctx), to_customer=ctx.to_customer,
        )


class CooldownCheck(Check):
    """Fails until ``COOLDOWN_MONTHS`` calendar months after the latest submission that
    ``latest_submission`` finds; the advice names the date it becomes possible again."""

    advice = _("Possible again on %(date)s.")
    acts = accept_acts = ()

    def latest_submission(self, ctx: Context) -> datetime | None:
        raise NotImplementedError

    def result(self, ctx: Context) -> CheckResult:
        latest = self.latest_submission(ctx)
        until = add_months(latest, cooldown_months()) if latest is not None else None
        if until is None or ctx.now >= until:
            return CheckResult(self, passed=True, to_customer=ctx.to_customer)
        message, advice = self.message_and_advice(ctx)
        return CheckResult(
            self,
            passed=False,
            message=str(message) % {"months": cooldown_months()},
            advice=str(advice) % {"date": date_format(timezone.localtime(until), "Y-m-d H:i T")},
            available_on=until,
            to_customer=ctx.to_customer,
        )


REGISTRY: list[Check] = []


def register(cls: type[Check]) -> type[Check]:
    REGISTRY.append(cls())
    return cls


def _active_association(customer: Customer) -> Association | None:
    active = Association.objects.filter(customer=customer, status=Association.Status.ACTIVE)
    return active.select_related("partner").first()


@register
class AlreadyAssociated(Check):
    code = "associated"
    acts = (CUSTOMER, PARTNER)
    accept_acts = (CUSTOMER, PARTNER)
    title = _("Not associated with a partner")
    guards = {Action.ACCEPT: BOTH}
    message = _("Your account is already associated with %(partner)s.")
    advice = _(
        "An account can have one partner at a time. Dissociate from %(partner)s in your Account Center "
        "(or ask it to unbind your account) before accepting another partner."
    )

    def failing(self, ctx):
        return Association.objects.filter(customer=ctx.customer, status=Association.Status.ACTIVE).exists()

    def params(self, ctx):
        current = _active_association(ctx.customer)
        return {"partner": current.partner.name if current else ""}


@register
class NewAccount(Check):
    code = "public_link.new_account"
    accept_acts = (PARTNER,)
    title = _("A new account without consumption")
    guards = {Action.ACCEPT: BOTH}
    origins = frozenset({Origin.PUBLIC_LINK})
    message = _("The account must be a new account created within %(days)s days.")
    advice = _(
        "The public partner link is only for accounts registered in the last %(days)s days that have no "
        "consumption yet. Ask the partner to send you a personal invitation instead."
    )

    def failing(self, ctx):
        days = self.params(ctx)["days"]
        return ctx.customer.registered_at < ctx.now - timedelta(days=days) or ctx.customer.has_consumption

    def params(self, ctx):
        return {"days": settings.PARTNER_CENTER["PUBLIC_LINK_MAX_ACCOUNT_AGE_DAYS"]}


@register
class PartnerRequestCooldown(CooldownCheck):
    code = "cooldown.partner_request"
    title = _("No switch or unbind by this partner in the cooldown period")
    guards = {Action.SWITCH: BOTH, Action.UNBIND: BOTH}
    message = _("This partner submitted a switch or unbind request for this customer in the last %(months)s months.")
    to_customer = {
        "title": _("No switch or unbind asked by your partner in the cooldown period"),
        "message": _("Your partner asked to switch or unbind your account in the last %(months)s months."),
    }

    def latest_submission(self, ctx):
        return ctx.request_facts()["partner_request"]


@register
class AfterDissociationCooldown(CooldownCheck):
    code = "cooldown.after_dissociation"
    title = _("No dissociation request by the customer in the cooldown period")
    guards = {Action.SWITCH: BOTH, Action.UNBIND: BOTH}
    message = _("The customer submitted a dissociation request from this partner in the last %(months)s months.")
    to_customer = {
        "title": _("No dissociation asked by you in the cooldown period"),
        "message": _("You asked to dissociate from this partner in the last %(months)s months."),
    }

    def latest_submission(self, ctx):
        return ctx.request_facts()["partner_dissociation"]


@register
class CustomerRequestCooldown(CooldownCheck):
    code = "cooldown.customer_request"
    title = _("No earlier dissociation request in the cooldown period")
    guards = {Action.DISSOCIATION: BOTH}
    message = _("The customer submitted a dissociation request in the last %(months)s months.")
    to_customer = {"message": _("You asked to dissociate from a partner in the last %(months)s months.")}

    def latest_submission(self, ctx):
        return ctx.request_facts()["dissociation"]


@register
class PendingRequest(Check):
    code = "request.pending"
    acts = (CUSTOMER, PARTNER)
    title = _("No other pending request")
    guards = ALL_REQUESTS
    message = _("Another request on this association is pending.")
    advice = _("Handle or cancel the pending request first.")
    to_customer = {
        "message": _("Another request on your association is pending."),
        "advice": _("Answer or cancel the pending request first."),
    }

    def failing(self, ctx):
        return ctx.request_facts()["pending"] >= settings.PARTNER_CENTER["PENDING_REQUESTS_PER_ASSOCIATION"]


@register
class ReservedInstances(Check):
    code = "reserved_instances"
    title = _("No unexpired reserved instances")
    guards = {Action.SWITCH: BOTH, Action.UNBIND: RESELLER, Action.DISSOCIATION: RESELLER, Action.ACCEPT: RESELLER}
    message = _("The customer has unexpired reserved instances.")
    advice = _("The customer must unsubscribe them first.")
    to_customer = {
        "message": _("Your account has unexpired reserved instances."),
        "advice": _("Unsubscribe them first."),
    }
    wording = {
        Action.ACCEPT: (
            _("Your account has unexpired reserved instances."),
            _("Unsubscribe the reserved instances first, then accept again."),
        )
    }

    def failing(self, ctx):
        return ctx.has_unexpired_reserved_instances()


@register
class OrdersAwaitingPartnerPayment(Check):
    code = "orders.awaiting_partner_payment"
    acts = (CUSTOMER, PARTNER)
    title = _("No orders waiting for the partner to pay")
    guards = ALL_REQUESTS
    message = _("Orders are waiting for the partner to pay.")
    advice = _("The customer cancels those orders, or the partner pays them.")
    to_customer = {
        "title": _("No orders waiting for your partner to pay"),
        "message": _("Orders are waiting for your partner to pay."),
        "advice": _("Cancel those orders, or ask your partner to pay them."),
    }

    def failing(self, ctx):
        return ctx.customer.orders_awaiting_partner_payment > 0


@register
class MasterWithUnhostedSubs(Check):
    code = "enterprise.master_with_unhosted_subs"
    title = _("Not an enterprise master with sub-accounts that are not financially hosted")
    guards = {**ALL_REQUESTS, Action.ACCEPT: RESELLER}
    message = _("The customer is an enterprise master account with sub-accounts that are not financially hosted.")
    advice = _("The customer must remove those sub-accounts from the enterprise first.")
    to_customer = {
        "message": _("Your account is an enterprise master account with sub-accounts that are not financially hosted."),
        "advice": _("Remove those sub-accounts from your enterprise first."),
    }
    wording = {
        Action.ACCEPT: (
            _("Your account is an enterprise master account with sub-accounts that are not financially hosted."),
            _("Remove those sub-accounts from the enterprise first, then accept again."),
        )
    }

    def failing(self, ctx):
        return (
            ctx.customer.enterprise_role == Customer.EnterpriseRole.MASTER
            and Customer.objects.filter(enterprise_master=ctx.customer, financially_hosted=False).exists()
        )


@register
class UnhostedSub(Check):
    code = "enterprise.unhosted_sub"
    title = _("Not an enterprise sub-account that is not financially hosted")
    guards = {**ALL_REQUESTS, Action.ACCEPT: RESELLER}
    message = _("The customer is an enterprise sub-account that is not financially hosted.")
    advice = _("The customer must leave the enterprise master account first.")
    to_customer = {
        "message": _("Your account is an enterprise sub-account that is not financially hosted."),
        "advice": _("Leave the enterprise master account first."),
    }
    wording = {
        Action.ACCEPT: (
            _("Your account is an enterprise sub-account that is not financially hosted."),
            _("Leave the enterprise master account first, then accept again."),
        )
    }

    def failing(self, ctx):
        return ctx.customer.enterprise_role == Customer.EnterpriseRole.SUB and not ctx.customer.financially_hosted


@register
class HostedSub(Check):
    code = "enterprise.hosted_sub"
    title = _("Not a financially hosted enterprise sub-account")
    guards = {Action.SWITCH: BOTH, Action.UNBIND: BOTH, Action.ACCEPT: BOTH}
    message = _("The customer is a financially hosted enterprise sub-account.")
    advice = _("Act on its enterprise master account instead.")
    to_customer = {
        "message": _("Your account is a financially hosted enterprise sub-account."),
        "advice": _("Act on your enterprise master account instead."),
    }
    wording = {
        Action.ACCEPT: (
            _("Your account is a financially hosted sub-account of an enterprise master account."),
            _("The enterprise master account pays for this account: the invitation must be accepted by the master."),
        )
    }

    def failing(self, ctx):
        return ctx.customer.enterprise_role == Customer.EnterpriseRole.SUB and ctx.customer.financially_hosted


@register
class Arrears(Check):
    code = "arrears"
    acts = {Type.REFERRAL: (CUSTOMER,), Type.RESELLER: (PARTNER,)}
    title = _("No arrears")
    guards = {**ALL_REQUESTS, Action.ACCEPT: BOTH}
    message = _("The customer owes money.")
    advice = {
        Type.REFERRAL: _("The customer must top up to clear the arrears."),
        Type.RESELLER: _("The partner must allocate funds to clear the arrears."),
    }
    to_customer = {
        "message": _("Your account is in arrears (%(amount)s)."),
        "advice": {
            Type.REFERRAL: _("Top up your account to clear the arrears."),
            Type.RESELLER: _("Ask your partner to allocate funds to clear the arrears."),
        },
    }
    # Before acceptance no partner funds the account: the customer tops up, whatever the type.
    wording = {
        Action.ACCEPT: (
            _("Your account is in arrears (%(amount)s)."),
            _("Top up your account to clear the arrears, then accept again."),
        )
    }

    def failing(self, ctx):
        return ctx.customer.in_arrears

    def params(self, ctx):
        return {"amount": ctx.customer.arrears}


@register
class Postpaid(Check):
    code = "postpaid"
    title = _("Postpaid billing is not enabled")
    guards = {Action.SWITCH: REFERRAL}
    message = _("Postpaid billing is enabled.")
    advice = _("The customer must cancel postpaid billing first.")
    to_customer = {
        "message": _("Postpaid billing is enabled on your account."),
        "advice": _("Cancel postpaid billing first."),
    }

    def failing(self, ctx):
        return ctx.customer.postpaid


@register
class InvoiceOwed(Check):
    code = "invoice_owed"
    title = _("No invoice owed")
    guards = {Action.SWITCH: REFERRAL, Action.ACCEPT: RESELLER}
    message = _("An invoice is owed.")
    advice = _("The customer must settle it first.")
    to_customer = {"message": _("Your account owes an invoice."), "advice": _("Settle it first.")}
    wording = {
        Action.ACCEPT: (
            _("An invoice is owed on your account."),
            _("Settle the owed invoice with the vendor first, then accept again."),
        )
    }

    def failing(self, ctx):
        return ctx.customer.invoice_owed


@register
class SpecialContract(Check):
    code = "special_contract"
    acts = accept_acts = (VENDOR,)
    title = _("No effective special contract")
    guards = {**{action: RESELLER for action in ALL_REQUESTS}, Action.ACCEPT: BOTH}
    message = _("An effective special contract exists.")
    advice = _("Contact the vendor's ecosystem manager.")
    to_customer = {"message": _("Your account has an effective special contract.")}
    wording = {
        Action.ACCEPT: (
            _("Your account has an effective special contract with the vendor."),
            _("Contact the vendor's ecosystem manager; accounts under a special contract cannot be associated."),
        )
    }

    def failing(self, ctx):
        return ctx.customer.special_contract


@register
class CustomerFrozen(Check):
    code = "customer.frozen"
    acts = (PARTNER,)
    title = _("The customer account is not frozen")
    guards = {action: RESELLER for action in ALL_REQUESTS}
    message = _("The customer account is frozen.")
    advice = _("The partner must unfreeze it first.")
    to_customer = {
        "title": _("Your account is not frozen"),
        "message": _("Your account is frozen."),
        "advice": _("Ask your partner to unfreeze it first."),
    }
    # A vendor (operator) freeze is lifted by the vendor only: other advice (the same words for
    # partner and customer), another actor.
    vendor_advice = _("The vendor froze it: contact the vendor to have it unfrozen.")

    def failing(self, ctx):
        return ctx.customer.frozen

    def message_and_advice(self, ctx):
        message, advice = super().message_and_advice(ctx)
        return message, self.vendor_advice if ctx.customer.frozen_by_vendor else advice

    def who_acts(self, ctx):
        if ctx.action != Action.ACCEPT and ctx.customer.frozen_by_vendor:
            return (VENDOR,)
        return super().who_acts(ctx)


@register
class PartnerFrozen(Check):
    code = "partner.frozen"
    acts = (VENDOR,)
    title = _("The partner is not frozen")
    guards = {Action.SWITCH: RESELLER, Action.UNBIND: RESELLER, Action.APPROVAL: RESELLER}
    message = _("The partner, or its distributor, is frozen.")
    advice = _("Contact the vendor.")
    to_customer = {
        "title": _("Your partner is not frozen"),
        "message": _("Your partner, or its distributor, is frozen."),
    }

    def failing(self, ctx):
        return ctx.partner.is_frozen_effectively


_BY_CODE = {check.code: check for check in REGISTRY}


def run_checks(
    *, association: Association, action: str, handling: AssociationRequest | None = None, now: datetime | None = None,
    to_customer: bool = False,
) -> list[CheckResult]:
    """Every check that guards ``action`` for this association's type, each with its result,
    in registry order. ``association.partner`` and ``.customer`` are read as they are loaded
    (the services pass the rows they locked). ``to_customer``: worded for the customer."""
    ctx = Context(
        action=action,
        partner=association.partner,
        customer=association.customer,
        type=association.type,
        now=now or timezone.now(),
        association=association,
        handling=handling,
        to_customer=to_customer,
    )
    return _run(ctx)


def accept_checks(
    customer: Customer, *, partner: Partner, type: str, origin: str, now: datetime | None = None
) -> list[CheckResult]:
    """Every check that guards accepting ``partner``'s offer of a ``type`` association made by
    ``origin`` (an invitation or the public link), each with its result, in registry order
    (SPEC R3). The acceptance services pass the customer row they locked."""
    ctx = Context(
        action=Action.ACCEPT, partner=partner, customer=customer, type=type, now=now or timezone.now(), origin=origin
    )
    return _run(ctx)


def _run(ctx: Context) -> list[CheckResult]:
    actions = {ctx.action, *_IMPLIED.get(ctx.action, ())}
    return [check.result(ctx) for check in REGISTRY if any(check.applies(a, ctx.type, ctx.origin) for a in actions)]


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
    errors = []
    for r in failed:
        error = ValidationError(f"{r.message} {r.advice}", code=r.code)
        # Carried along for the API's problem document (message and advice apart, in the words
        # the check was run with; who can act, when a cooldown clears).
        error.check_message, error.check_advice = r.message, r.advice
        error.who_acts, error.clears_at = r.who_acts, r.available_on
        errors.append(error)
    return ValidationError(errors)
