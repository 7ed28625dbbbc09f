"""How a customer becomes associated through a partner (SPEC R2a, R2b, R3), and project
registration (项目报备).

Invitation links carry the invitation's nonce signed with ``django.core.signing``; a link
works while its invitation is ``sent`` and unexpired, so accepting, declining, revoking or
re-sending (which supersedes it) kills it at once. The public partner link is derived by
signing the partner's id and the association type, so it needs no stored secret and cannot
be forged; it is reusable by design and refuses every account that is not new.

Locks are taken in the portal's one order: partner, then invitation or project, then
customer. Acceptance locks the customer row and runs the account check again under it
(``customers.checks``, action accept), so two partners' invitations accepted at the same
moment end with exactly one association.
"""
import secrets
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from audit.events import Event
from audit.services import record
from customers.checks import accept_checks, refusal
from customers.models import Association, Customer, Invitation, ProjectRegistration
from customers.services import association_create
from notifications.email import queue_email
from organization.models import Partner, User

_INVITATION_SALT = "customers.invitation"
_PUBLIC_LINK_SALT = "customers.public_link"
# A real token is well under this; anything longer is refused before any work is done.
MAX_TOKEN_LENGTH = 200


class LinkInvalid(ValidationError):
    """A link that was never issued by the portal: tampered, truncated or forged."""


class LinkUnusable(ValidationError):
    """A genuine invitation link that no longer works (used, declined, expired, revoked,
    superseded)."""


# Links ---------------------------------------------------------------------------------------

def invitation_token(invitation: Invitation) -> str:
    return signing.Signer(salt=_INVITATION_SALT).sign(invitation.nonce)


def invitation_path(invitation: Invitation) -> str:
    return reverse("account_center:invitation", args=[invitation_token(invitation)])


def public_link_token(partner: Partner, type: str) -> str:
    return signing.Signer(salt=_PUBLIC_LINK_SALT).sign_object({"p": partner.pk, "t": type})


def public_link_path(partner: Partner, type: str) -> str:
    return reverse("account_center:public_link", args=[public_link_token(partner, type)])


def _invalid_link() -> LinkInvalid:
    return LinkInvalid(
        _(
            "This link is not valid. Check that you opened or copied the whole link from the e-mail, "
            "or ask your partner to send a new invitation."
        ),
        code="link_invalid",
    )


def invitation_from_token(token: str) -> Invitation:
    if len(token) > MAX_TOKEN_LENGTH:
        raise _invalid_link()
    try:
        nonce = signing.Signer(salt=_INVITATION_SALT).unsign(token)
    except signing.BadSignature:
        raise _invalid_link() from None
    invitation = Invitation.objects.select_related("partner").filter(nonce=nonce).first()
    if invitation is None:
        raise _invalid_link()
    return invitation


def public_link_from_token(token: str) -> tuple[Partner, str]:
    if len(token) > MAX_TOKEN_LENGTH:
        raise _invalid_link()
    try:
        payload = signing.Signer(salt=_PUBLIC_LINK_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        raise _invalid_link() from None
    if not isinstance(payload, dict) or not isinstance(payload.get("p"), int):
        raise _invalid_link()
    partner = Partner.objects.filter(pk=payload["p"]).first()
    if partner is None or payload.get("t") not in Association.Type.values:
        raise _invalid_link()
    return partner, payload["t"]


def _when(moment) -> str:
    # Year-first with the zone named reads the same in every language and leaves no doubt
    # about the day a link stops working.
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i T")


def invitation_is_open(invitation: Invitation, now=None) -> bool:
    return invitation.status == Invitation.Status.SENT and invitation.expires_at > (now or timezone.now())


def invitation_display_status(invitation: Invitation, now=None) -> str:
    """The status a person should see: a sent invitation past its expiry is expired."""
    if invitation.status == Invitation.Status.SENT and not invitation_is_open(invitation, now):
        return Invitation.Status.EXPIRED
    return invitation.status


def invitation_ensure_usable(invitation: Invitation) -> None:
    """Refuse a link that no longer works, saying why and what to do."""
    status = invitation_display_status(invitation)
    if status == Invitation.Status.SENT:
        return
    ask = _("Ask your partner to send a new invitation.")
    reasons = {
        Invitation.Status.ACCEPTED: _("This invitation has already been accepted; each link works once."),
        Invitation.Status.DECLINED: _("This invitation was declined."),
        Invitation.Status.EXPIRED: _("This invitation expired on %(date)s.")
        % {"date": _when(invitation.expires_at)},
        Invitation.Status.REVOKED: _("The partner withdrew this invitation."),
        Invitation.Status.SUPERSEDED: _(
            "The partner sent a newer invitation, which replaces this one. Use the link in the latest e-mail."
        ),
    }
    raise LinkUnusable(f"{reasons[status]} {ask}", code=f"link_{status}")


# Invitations (partner side) ------------------------------------------------------------------

def invitations_sent_today(partner: Partner) -> int:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return Invitation.objects.filter(partner=partner, sent_at__gte=start).count()


def _check_daily_limit(partner: Partner) -> None:
    limit = settings.PARTNER_CENTER["INVITATIONS_PER_PARTNER_PER_DAY"]
    if invitations_sent_today(partner) >= limit:
        raise ValidationError(
            _("Your organization has sent %(limit)s invitations today, the daily maximum. Try again tomorrow."),
            params={"limit": limit},
            code="daily_limit",
        )


def _check_no_open_invitation(partner: Partner, email: str, *, now) -> None:
    if Invitation.objects.filter(
        partner=partner, email__iexact=email, status=Invitation.Status.SENT, expires_at__gt=now
    ).exists():
        raise ValidationError(
            _("An invitation to %(email)s is still open. Re-send it from the invitations list instead."),
            params={"email": email},
            code="already_invited",
        )


def _create_invitation(*, actor, partner, email, name, type, language, now) -> Invitation:
    return Invitation.objects.create(
        partner=partner,
        email=email,
        name=name,
        type=type,
        language=language,
        nonce=secrets.token_urlsafe(32),
        created_by=actor,
        sent_at=now,
        expires_at=now + timedelta(days=settings.PARTNER_CENTER["INVITATION_VALID_DAYS"]),
    )


def _send_invitation_email(invitation: Invitation, base_url: str) -> None:
    """Queues the e-mail with the invitation (notifications.email), in the language chosen for
    the customer; a worker sends it once the transaction has committed."""
    link = base_url.rstrip("/") + invitation_path(invitation)
    with translation.override(invitation.language or settings.LANGUAGE_CODE):
        context = {
            "invitation": invitation,
            "partner": invitation.partner,
            "link": link,
            "expires": _when(invitation.expires_at),
        }
        subject = _("%(partner)s invites you to associate your cloud account") % {"partner": invitation.partner.name}
        body = render_to_string("customers/invitations/email.txt", context)
    queue_email(to=invitation.email, subject=subject, body=body, kind="invitation")


def invitation_send(*, actor: User, email: str, name: str = "", type: str, language: str, base_url: str) -> Invitation:
    """Pre-register ``email`` and e-mail it a single-use link (R2a). ``base_url`` is the
    portal's address as the member reached it, for the link in the e-mail."""
    email = email.strip()
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=actor.partner_id)
        now = timezone.now()
        _check_daily_limit(partner)
        _check_no_open_invitation(partner, email, now=now)
        invitation = _create_invitation(
            actor=actor, partner=partner, email=email, name=name.strip(), type=type, language=language, now=now
        )
        record(
            event=Event.INVITATION_SENT,
            actor=actor,
            partner=partner,
            after={
                "invitation": invitation.pk,
                "email": invitation.email,
                "name": invitation.name,
                "type": invitation.type,
                "expires_at": invitation.expires_at.isoformat(),
            },
        )
        _send_invitation_email(invitation, base_url)
    return invitation


def invitation_resend(
    *, actor: User, invitation: Invitation, email: str, name: str, language: str, base_url: str
) -> Invitation:
    """Send a fresh link, to the same or a changed e-mail; the old link stops working at once."""
    email = email.strip()
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=actor.partner_id)
        old = Invitation.objects.select_for_update().get(pk=invitation.pk, partner=partner)
        now = timezone.now()
        if old.status != Invitation.Status.SENT:
            raise ValidationError(
                _("This invitation is %(status)s and can no longer be re-sent. Send a new invitation instead."),
                params={"status": Invitation.Status(old.status).label.lower()},
                code="not_resendable",
            )
        _check_daily_limit(partner)
        if email.lower() != old.email.lower():
            _check_no_open_invitation(partner, email, now=now)
        new = _create_invitation(
            actor=actor, partner=partner, email=email, name=name.strip(), type=old.type, language=language, now=now
        )
        old.status = Invitation.Status.SUPERSEDED
        old.superseded_by = new
        old.handled_at = now
        old.save(update_fields=["status", "superseded_by", "handled_at"])
        record(
            event=Event.INVITATION_RESENT,
            actor=actor,
            partner=partner,
            before={"invitation": old.pk, "email": old.email, "name": old.name},
            after={
                "invitation": new.pk,
                "email": new.email,
                "name": new.name,
                "expires_at": new.expires_at.isoformat(),
            },
        )
        _send_invitation_email(new, base_url)
    return new


def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=actor.partner_id)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk, partner=partner)
        if not invitation_is_open(invitation):
            status = invitation_display_status(invitation)
            raise ValidationError(
                _("Only an open invitation can be revoked; this one is %(status)s."),
                params={"status": Invitation.Status(status).label.lower()},
                code="not_revocable",
            )
        invitation.status = Invitation.Status.REVOKED
        invitation.handled_at = timezone.now()
        invitation.save(update_fields=["status", "handled_at"])
        record(
            event=Event.INVITATION_REVOKED,
            actor=actor,
            partner=partner,
            before={"invitation": invitation.pk, "email": invitation.email, "status": Invitation.Status.SENT},
            after={"status": invitation.status},
        )
    return invitation


# Invitations and the public link (customer side) ---------------------------------------------

def _lock_partner_for_association(partner_id: int) -> Partner:
    # Taken first, like every service does, so acceptance and the partner's own actions
    # (re-send, revoke, funds) queue instead of deadlocking: creating the association and
    # its records takes a key-share lock on the partner row anyway. NO KEY UPDATE still lets
    # other rows that merely reference the partner be written meanwhile.
    return Partner.objects.select_for_update(no_key=True).get(pk=partner_id)


def _lock_invitation(token: str) -> Invitation:
    """The link's invitation, locked after its partner."""
    invitation = invitation_from_token(token)
    _lock_partner_for_association(invitation.partner_id)
    return Invitation.objects.select_for_update(of=("self",)).select_related("partner").get(pk=invitation.pk)


def _lock_customer(actor: User) -> Customer:
    return Customer.objects.select_for_update().get(user=actor)


def _ensure_acceptable(customer: Customer, *, partner: Partner, type: str, origin: str) -> None:
    """The account check of acceptance, run on the locked customer row; every failure is refused."""
    error = refusal(accept_checks(customer, partner=partner, type=type, origin=origin))
    if error is not None:
        raise error


def invitation_accept(*, actor: User, token: str) -> Association:
    """The signed-in customer accepts: the invitation is used up and the association begins,
    in one transaction, after the link and the account check are run again under the locks."""
    with transaction.atomic():
        invitation = _lock_invitation(token)
        invitation_ensure_usable(invitation)
        customer = _lock_customer(actor)
        _ensure_acceptable(
            customer, partner=invitation.partner, type=invitation.type, origin=Association.Origin.INVITATION
        )
        association = association_create(
            actor=actor,
            partner=invitation.partner,
            customer=customer,
            type=invitation.type,
            origin=Association.Origin.INVITATION,
        )
        invitation.status = Invitation.Status.ACCEPTED
        invitation.handled_at = timezone.now()
        invitation.customer = customer
        invitation.save(update_fields=["status", "handled_at", "customer"])
        record(
            event=Event.INVITATION_ACCEPTED,
            actor=actor,
            partner=invitation.partner,
            customer=customer,
            association=association,
            before={"invitation": invitation.pk, "status": Invitation.Status.SENT},
            after={"status": invitation.status, "email": invitation.email, "type": invitation.type},
        )
    return association


def invitation_decline(*, actor: User, token: str) -> Invitation:
    with transaction.atomic():
        invitation = _lock_invitation(token)
        invitation_ensure_usable(invitation)
        customer = _lock_customer(actor)
        invitation.status = Invitation.Status.DECLINED
        invitation.handled_at = timezone.now()
        invitation.customer = customer
        invitation.save(update_fields=["status", "handled_at", "customer"])
        record(
            event=Event.INVITATION_DECLINED,
            actor=actor,
            partner=invitation.partner,
            customer=customer,
            before={"invitation": invitation.pk, "status": Invitation.Status.SENT},
            after={"status": invitation.status},
        )
    return invitation


def public_link_accept(*, actor: User, token: str) -> Association:
    """A new account associates itself through the partner's public link (R2b)."""
    partner, type = public_link_from_token(token)
    with transaction.atomic():
        partner = _lock_partner_for_association(partner.pk)
        customer = _lock_customer(actor)
        _ensure_acceptable(customer, partner=partner, type=type, origin=Association.Origin.PUBLIC_LINK)
        return association_create(
            actor=actor, partner=partner, customer=customer, type=type, origin=Association.Origin.PUBLIC_LINK
        )


def customer_sign_up(
    *, account_name: str, name: str, email: str, password: str, language: str, partner: Partner
) -> Customer:
    """A visitor holding a partner's link creates a customer account: the sign-in user and the
    customer in one transaction. ``partner`` is the one whose link was used (for the record)."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                account_name,
                password,
                kind=User.Kind.CUSTOMER,
                email=email.strip(),
                display_name=name.strip(),
                language=language,
            )
            customer = Customer.objects.create(
                account_name=account_name,
                name=name.strip(),
                email=email.strip(),
                user=user,
                registered_at=timezone.now(),
                has_consumption=False,
            )
            record(
                event=Event.CUSTOMER_SIGNED_UP,
                actor=user,
                partner=partner,
                customer=customer,
                after={"account_name": account_name, "email": customer.email},
            )
    except IntegrityError:
        # The form checks both; this is the registration that won a race for the same name.
        raise ValidationError(
            _("This account name or e-mail is already registered. Sign in instead, or choose another one."),
            code="taken",
        ) from None
    return customer


# Project registration ------------------------------------------------------------------------

def project_register_refusal(partner: Partner) -> str | None:
    """Why ``partner`` cannot register projects, or None."""
    if not partner.in_migration_programme:
        return _(
            "Only partners in the vendor's migration programme can register projects, and your organization "
            "has not joined it. Ask your vendor ecosystem manager to add your organization to the programme."
        )
    return None


def project_close_refusal(expected_close: date) -> ValidationError | None:
    """A project cannot be expected to close in the past (in the partner's own calendar)."""
    if expected_close < timezone.localdate():
        return ValidationError(_("The expected close date cannot be in the past."), code="past")
    return None


def project_register(
    *,
    actor: User,
    customer: Customer,
    name: str,
    expected_amount: Decimal,
    expected_close: date,
    description: str = "",
) -> ProjectRegistration:
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=actor.partner_id)
        refusal = project_register_refusal(partner)
        if refusal:
            raise ValidationError(refusal, code="not_in_programme")
        past = project_close_refusal(expected_close)
        if past is not None:
            raise past
        if not Association.objects.filter(
            partner=partner, customer=customer, status=Association.Status.ACTIVE
        ).exists():
            raise ValidationError(
                _("%(customer)s is not associated with your organization."),
                params={"customer": customer.account_name},
                code="not_associated",
            )
        project = ProjectRegistration.objects.create(
            partner=partner,
            customer=customer,
            name=name.strip(),
            expected_amount=expected_amount,
            expected_close=expected_close,
            description=description.strip(),
            submitted_by=actor,
        )
        record(
            event=Event.PROJECT_REGISTERED,
            actor=actor,
            partner=partner,
            customer=customer,
            after={
                "project": project.pk,
                "name": project.name,
                "expected_amount": str(project.expected_amount),
                "expected_close": project.expected_close.isoformat(),
            },
        )
    return project


def project_review(*, actor: User, project: ProjectRegistration, approve: bool, reason: str) -> ProjectRegistration:
    """An operator approves or rejects a submitted project, always with a reason."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give the reason for your decision."), code="reason_required")
    with transaction.atomic():
        project = (
            ProjectRegistration.objects.select_for_update(of=("self",))
            .select_related("partner", "customer")
            .get(pk=project.pk)
        )
        if project.status != ProjectRegistration.Status.SUBMITTED:
            raise ValidationError(
                _("This project was already reviewed (%(status)s)."),
                params={"status": project.get_status_display()},
                code="already_reviewed",
            )
        project.status = ProjectRegistration.Status.APPROVED if approve else ProjectRegistration.Status.REJECTED
        project.reviewed_at = timezone.now()
        project.review_reason = reason
        project.save(update_fields=["status", "reviewed_at", "review_reason"])
        record(
            event=Event.PROJECT_APPROVED if approve else Event.PROJECT_REJECTED,
            actor=actor,
            partner=project.partner,
            customer=project.customer,
            reason=reason,
            before={"project": project.pk, "status": ProjectRegistration.Status.SUBMITTED},
            after={"status": project.status},
        )
    return project
