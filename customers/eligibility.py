"""Who may become associated with a partner (SPEC R3), checked when a customer accepts an
invitation or a public partner link.

One registry: each rule is a small function with its code, the association types and the
ways of associating it applies to, a message and advice naming who must act. The acceptance
page lists every failure (not only the first); the acceptance service runs the same rules
again under the customer's row lock."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Association, Customer

BOTH_TYPES = frozenset(Association.Type.values)
RESELLER_ONLY = frozenset({Association.Type.RESELLER})
ANY_ORIGIN = frozenset({Association.Origin.INVITATION, Association.Origin.PUBLIC_LINK})


@dataclass(frozen=True)
class Failure:
    code: str
    message: str
    advice: str

    def __str__(self):
        return f"{self.message} {self.advice}"


@dataclass(frozen=True)
class Context:
    type: str
    origin: str
    now: datetime


@dataclass(frozen=True)
class Rule:
    code: str
    types: frozenset
    origins: frozenset
    message: str
    advice: str
    # Returns None when the customer passes, else the placeholders of message and advice.
    test: Callable[[Customer, Context], dict | None]

    def applies(self, context: Context) -> bool:
        return context.type in self.types and context.origin in self.origins

    def run(self, customer: Customer, context: Context) -> Failure | None:
        params = self.test(customer, context)
        if params is None:
            return None
        return Failure(self.code, str(self.message) % params, str(self.advice) % params)


RULES: list[Rule] = []


def rule(code: str, *, message, advice, types=BOTH_TYPES, origins=ANY_ORIGIN):
    def register(test):
        RULES.append(Rule(code, frozenset(types), frozenset(origins), message, advice, test))
        return test

    return register


@rule(
    "associated",
    message=_("Your account is already associated with %(partner)s."),
    advice=_(
        "An account can have one partner at a time. Dissociate from %(partner)s in your Account Center "
        "(or ask it to unbind your account) before accepting another partner."
    ),
)
def _associated(customer, context):
    current = (
        Association.objects.filter(customer=customer, status=Association.Status.ACTIVE)
        .select_related("partner")
        .first()
    )
    return {"partner": current.partner.name} if current else None


@rule(
    "public_link.new_account",
    origins={Association.Origin.PUBLIC_LINK},
    message=_("The account must be a new account created within %(days)s days."),
    advice=_(
        "The public partner link is only for accounts registered in the last %(days)s days that have no "
        "consumption yet. Ask the partner to send you a personal invitation instead."
    ),
)
def _new_account(customer, context):
    days = settings.PARTNER_CENTER["PUBLIC_LINK_MAX_ACCOUNT_AGE_DAYS"]
    if customer.registered_at < context.now - timedelta(days=days) or customer.has_consumption:
        return {"days": days}
    return None


@rule(
    "special_contract",
    message=_("Your account has an effective special contract with the vendor."),
    advice=_("Contact the vendor's ecosystem manager; accounts under a special contract cannot be associated."),
)
def _special_contract(customer, context):
    return {} if customer.special_contract else None


@rule(
    "arrears",
    message=_("Your account is in arrears (%(amount)s)."),
    advice=_("Top up your account to clear the arrears, then accept again."),
)
def _arrears(customer, context):
    return {"amount": customer.arrears} if customer.in_arrears else None


@rule(
    "enterprise.hosted_sub",
    message=_("Your account is a financially hosted sub-account of an enterprise master account."),
    advice=_("The enterprise master account pays for this account: the invitation must be accepted by the master."),
)
def _hosted_sub(customer, context):
    is_hosted_sub = customer.enterprise_role == Customer.EnterpriseRole.SUB and customer.financially_hosted
    return {} if is_hosted_sub else None


@rule(
    "reserved_instances",
    types=RESELLER_ONLY,
    message=_("Your account has unexpired reserved instances."),
    advice=_("Unsubscribe the reserved instances first, then accept again."),
)
def _reserved_instances(customer, context):
    return {} if customer.reserved_instances.filter(expires_at__gt=context.now).exists() else None


@rule(
    "invoice_owed",
    types=RESELLER_ONLY,
    message=_("An invoice is owed on your account."),
    advice=_("Settle the owed invoice with the vendor first, then accept again."),
)
def _invoice_owed(customer, context):
    return {} if customer.invoice_owed else None


@rule(
    "enterprise.master_with_unhosted_subs",
    types=RESELLER_ONLY,
    message=_("Your account is an enterprise master account with sub-accounts that are not financially hosted."),
    advice=_("Remove those sub-accounts from the enterprise first, then accept again."),
)
def _master_with_unhosted_subs(customer, context):
    if customer.enterprise_role != Customer.EnterpriseRole.MASTER:
        return None
    return {} if customer.sub_accounts.filter(financially_hosted=False).exists() else None


@rule(
    "enterprise.unhosted_sub",
    types=RESELLER_ONLY,
    message=_("Your account is an enterprise sub-account that is not financially hosted."),
    advice=_("Leave the enterprise master account first, then accept again."),
)
def _unhosted_sub(customer, context):
    is_unhosted_sub = customer.enterprise_role == Customer.EnterpriseRole.SUB and not customer.financially_hosted
    return {} if is_unhosted_sub else None


class NotEligible(ValidationError):
    """Every failed rule, each as its own message; ``failures`` keeps message and advice apart
    for pages that show them separately."""

    def __init__(self, failures: list[Failure]):
        self.failures = failures
        super().__init__([ValidationError(str(f), code=f.code) for f in failures])


def eligibility_failures(customer: Customer, *, type: str, origin: str, now: datetime | None = None) -> list[Failure]:
    context = Context(type=type, origin=origin, now=now or timezone.now())
    results = (r.run(customer, context) for r in RULES if r.applies(context))
    return [failure for failure in results if failure is not None]


def eligibility_ensure(customer: Customer, *, type: str, origin: str) -> None:
    failures = eligibility_failures(customer, type=type, origin=origin)
    if failures:
        raise NotEligible(failures)
