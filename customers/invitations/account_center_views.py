"""The customer's side of an invitation or a public partner link.

The link page itself is open to anyone holding the link, like a password-reset link: an
anonymous visitor sees whose link it is and may sign in or create a customer account from
it; a signed-in customer sees the partner, the type and what it means, every check of the
account check with its result and advice, and accepts or declines. Accepting and declining
are ``customer_required`` POSTs.
A forged or tampered link is a 404 and a link that no longer works a 410, each saying why."""
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from api import ratelimit
from customers.checks import accept_checks
from customers.invitations import services as services
from customers.invitations.forms import CustomerSignUpForm, current_language
from customers.models import CUSTOMER_TYPE_LABELS, Association, Invitation
from organization.models import Partner
from partnercenter.access import customer_required
from partnercenter.actions import form_page, posted
from partnercenter.clientip import client_ip

INVITATION, PUBLIC_LINK = "invitation", "public_link"

WHAT_IT_MEANS = {
    Association.Type.REFERRAL: gettext_lazy("You pay the vendor directly and invoice yourself."),
    Association.Type.RESELLER: gettext_lazy("Your partner funds your account and invoices you."),
}


SIGN_UP_LIMIT_EXCEEDED = gettext_lazy(
    "The number of registrations from your client has exceeded the limit. "
    "Please try again later or register from another client."
)
SIGN_UP_UNAVAILABLE = gettext_lazy("Sign-up is not available at the moment. Please try again in a few minutes.")


@dataclass(frozen=True)
class Offer:
    """What a link offers: an association with ``partner`` of ``type``."""

    kind: str
    token: str
    partner: Partner
    type: str
    invitation: Invitation | None

    @property
    def origin(self) -> str:
        return Association.Origin.INVITATION if self.kind == INVITATION else Association.Origin.PUBLIC_LINK

    @property
    def type_label(self) -> str:
        return str(CUSTOMER_TYPE_LABELS[self.type])

    @property
    def what_it_means(self) -> str:
        return WHAT_IT_MEANS[self.type]

    @property
    def max_account_age_days(self) -> int:
        return settings.PARTNER_CENTER["PUBLIC_LINK_MAX_ACCOUNT_AGE_DAYS"]

    def url(self, suffix: str = "") -> str:
        return reverse(f"account_center:{self.kind}{suffix}", args=[self.token])


def _offer(kind: str, token: str) -> Offer:
    if kind == INVITATION:
        invitation = services.invitation_from_token(token)
        services.invitation_ensure_usable(invitation)
        return Offer(kind, token, invitation.partner, invitation.type, invitation)
    partner, type = services.public_link_from_token(token)
    return Offer(kind, token, partner, type, None)


def _link_error(request, error: ValidationError):
    status = 404 if isinstance(error, services.LinkInvalid) else 410
    return render(request, "account_center/invitations/link_error.html", {"errors": error.messages}, status=status)


def _is_customer(user) -> bool:
    return user.is_authenticated and user.is_customer and hasattr(user, "customer")


def _offer_page(request, offer: Offer, errors=()):
    user = request.user
    if not user.is_authenticated:
        sign_in = reverse("customer_login") + "?" + urlencode({"next": offer.url()})
        return render(
            request,
            "account_center/invitations/landing.html",
            {"offer": offer, "sign_in_url": sign_in, "sign_up_url": offer.url("_sign_up")},
        )
    if not _is_customer(user):
        return render(request, "no_access.html", {"account_center": True}, status=403)
    results = accept_checks(user.customer, partner=offer.partner, type=offer.type, origin=offer.origin)
    return render(
        request,
        "account_center/invitations/offer.html",
        {
            "offer": offer,
            "results": results,
            "passed": all(result.passed for result in results),
            "errors": errors,
            "customer": user.customer,
        },
    )


def _show(request, kind, token):
    try:
        offer = _offer(kind, token)
    except (services.LinkInvalid, services.LinkUnusable) as error:
        return _link_error(request, error)
    return _offer_page(request, offer)


def _accept(request, kind, token, accept):
    try:
        offer = _offer(kind, token)
        association = accept(actor=request.user, token=token)
    except (services.LinkInvalid, services.LinkUnusable) as error:
        return _link_error(request, error)
    except ValidationError as error:
        return _offer_page(request, offer, errors=error.messages)
    messages.success(
        request,
        _("Your account is now associated with %(partner)s (%(type)s).")
        % {"partner": association.partner.name, "type": association.get_type_display()},
    )
    return redirect("account_center:home")


def _sign_up(request, kind, token):
    try:
        offer = _offer(kind, token)
    except (services.LinkInvalid, services.LinkUnusable) as error:
        return _link_error(request, error)
    if request.user.is_authenticated:
        return redirect(offer.url())
    initial = {"email": offer.invitation.email, "name": offer.invitation.name} if offer.invitation else {}
    form = CustomerSignUpForm(posted(request), initial=initial)
    status = {"code": 200}

    def sign_up(data):
        try:
            # Sign-ups are limited per client address; a refused one gives its slot back.
            with ratelimit.sign_up_slot(ip=client_ip(request)):
                return services.customer_sign_up(
                    account_name=data["account_name"],
                    name=data["name"],
                    email=data["email"],
                    password=data["password1"],
                    language=current_language(),
                    partner=offer.partner,
                )
        except ratelimit.LimitExceeded:
            status["code"] = 429
            raise ValidationError(SIGN_UP_LIMIT_EXCEEDED) from None
        except ratelimit.Unavailable:
            status["code"] = 503
            raise ValidationError(SIGN_UP_UNAVAILABLE) from None

    def signed_up(customer):
        login(request, customer.user, backend="organization.backends.RolePermissionBackend")
        return redirect(offer.url())

    return form_page(
        request,
        form,
        act=sign_up,
        success=_("Your account was created. Review the offer below and accept it."),
        done=signed_up,
        page=lambda: render(
            request, "account_center/invitations/sign_up.html", {"offer": offer, "form": form}, status=status["code"]
        ),
    )


@require_GET
def invitation(request, token):
    return _show(request, INVITATION, token)


@require_POST
@customer_required
def invitation_accept(request, token):
    return _accept(request, INVITATION, token, services.invitation_accept)


@require_POST
@customer_required
def invitation_decline(request, token):
    try:
        invitation = services.invitation_decline(actor=request.user, token=token)
    except (services.LinkInvalid, services.LinkUnusable) as error:
        return _link_error(request, error)
    messages.info(request, _("You declined the invitation from %(partner)s.") % {"partner": invitation.partner.name})
    return redirect("account_center:home")


@require_http_methods(["GET", "POST"])
def invitation_sign_up(request, token):
    return _sign_up(request, INVITATION, token)


@require_GET
def public_link(request, token):
    return _show(request, PUBLIC_LINK, token)


@require_POST
@customer_required
def public_link_accept(request, token):
    return _accept(request, PUBLIC_LINK, token, services.public_link_accept)


@require_http_methods(["GET", "POST"])
def public_link_sign_up(request, token):
    return _sign_up(request, PUBLIC_LINK, token)
