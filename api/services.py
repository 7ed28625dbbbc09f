"""API actions: keys, tokens and customer registration. Each runs in one transaction and
writes its operation record there; the raw secrets are returned once and never stored."""
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.auth import KEY_PREFIX, TOKEN_PREFIXES, digest, new_secret
from api.models import ApiKey, ApiToken
from audit.events import Event
from audit.services import record
from customers.models import Association, Customer
from customers.services import association_create
from organization.models import Partner, User

KEY_PREFIX_SHOWN = 12


@transaction.atomic
def api_key_create(*, actor: User, name: str) -> tuple[ApiKey, str]:
    """A new key acting as ``actor``; returns it with the raw key, which is shown once."""
    raw = new_secret(KEY_PREFIX)
    key = ApiKey.objects.create(
        partner=actor.partner, created_by=actor, name=name, prefix=raw[:KEY_PREFIX_SHOWN], key_hash=digest(raw)
    )
    record(event=Event.API_KEY_CREATED, actor=actor, partner=actor.partner, after={"name": name, "prefix": key.prefix})
    return key, raw


@transaction.atomic
def api_key_revoke(*, actor: User, api_key: ApiKey) -> ApiKey:
    """Revoke a key. Tokens obtained with it stop working with their next request, because
    every request checks the key."""
    key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if key.is_revoked:
        raise ValidationError(_("This API key is already revoked."), code="already_revoked")
    key.revoked_at = timezone.now()
    key.revoked_by = actor
    key.save(update_fields=["revoked_at", "revoked_by"])
    record(
        event=Event.API_KEY_REVOKED,
        actor=actor,
        partner=key.partner,
        before={"name": key.name, "prefix": key.prefix, "revoked": False},
        after={"revoked": True},
    )
    return key


def _token_issue(*, kind: str, member: User, api_key: ApiKey | None, ttl: int, **extra) -> tuple[ApiToken, str]:
    raw = new_secret(TOKEN_PREFIXES[kind])
    token = ApiToken.objects.create(
        kind=kind,
        token_hash=digest(raw),
        partner_id=member.partner_id,
        member=member,
        api_key=api_key,
        expires_at=timezone.now() + timedelta(seconds=ttl),
        **extra,
    )
    return token, raw


@transaction.atomic
def partner_token_create(*, member: User, api_key: ApiKey | None = None) -> tuple[ApiToken, str]:
    """A partner token for an authenticated member (by password or by ``api_key``). Like a
    sign-in it is not an operation record."""
    now = timezone.now()
    # Expired tokens are useless; clearing the member's own keeps the table to live tokens.
    ApiToken.objects.filter(member=member, expires_at__lte=now).delete()
    if api_key is not None:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return _token_issue(
        kind=ApiToken.Kind.PARTNER,
        member=member,
        api_key=api_key,
        ttl=settings.PARTNER_CENTER["PARTNER_TOKEN_TTL_SECONDS"],
    )


@transaction.atomic
def customer_token_create(*, partner_token: ApiToken, customer: Customer, role: str) -> tuple[ApiToken, str]:
    """Exchange a partner token for a token acting on ``customer`` with ``role`` (SPEC R28).

    Partner and customer rows are locked in the usual order, so the association check below
    cannot interleave with an unbind or a switch: either that finished first and the
    exchange is refused, or it waits and the token dies with the association it checked."""
    partner = Partner.objects.select_for_update().get(pk=partner_token.partner_id)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    association = Association.objects.filter(
        customer=customer, partner=partner, status=Association.Status.ACTIVE
    ).first()
    if association is None:
        raise ValidationError(
            _("%(customer)s is no longer associated with your organization.") % {"customer": customer.account_name},
            code="association_ended",
        )
    if association.type != Association.Type.RESELLER:
        raise ValidationError(
            _("%(customer)s is a referral customer; customer tokens are only for reseller customers.")
            % {"customer": customer.account_name},
            code="customer_is_referral",
        )
    token, raw = _token_issue(
        kind=ApiToken.Kind.CUSTOMER,
        member=partner_token.member,
        api_key=partner_token.api_key,
        ttl=settings.PARTNER_CENTER["CUSTOMER_TOKEN_TTL_SECONDS"],
        customer=customer,
        role=role,
    )
    record(
        event=Event.TOKEN_EXCHANGED,
        actor=partner_token.member,
        partner=partner,
        customer=customer,
        association=association,
        after={
            "role": role,
            "token_id": token.pk,
            "expires_at": token.expires_at.isoformat(),
            "api_key": partner_token.api_key.prefix if partner_token.api_key else None,
        },
    )
    return token, raw


@transaction.atomic
def customer_register(*, actor: User, partner: Partner, account_name: str, name: str, email: str) -> Association:
    """Create a customer account with its sign-in user and associate it with ``partner`` in
    reseller type (SPEC R2c). The user has no password yet.

    The account name and e-mail are checked first for a clear answer; the unique constraints
    decide when two registrations race, and the loser gets the same answer."""
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    _refuse_if_taken(account_name, email)
    try:
        with transaction.atomic():
            user = User.objects.create_user(account_name, None, kind=User.Kind.CUSTOMER, email=email)
            customer = Customer.objects.create(
                account_name=account_name, name=name, email=email, user=user, has_consumption=False
            )
    except IntegrityError:
        _refuse_if_taken(account_name, email)
        raise
    association = association_create(
        actor=actor,
        partner=partner,
        customer=customer,
        type=Association.Type.RESELLER,
        origin=Association.Origin.API,
    )
    record(
        event=Event.CUSTOMER_REGISTERED,
        actor=actor,
        partner=partner,
        customer=customer,
        association=association,
        after={"account_name": account_name, "name": name, "email": email},
    )
    return association


def _refuse_if_taken(account_name: str, email: str) -> None:
    if (
        Customer.objects.filter(account_name=account_name).exists()
        or User.objects.filter(username=account_name).exists()
    ):
        raise ValidationError(
            _("The account name %(name)s is already registered. Choose another one.") % {"name": account_name},
            code="account_name_taken",
        )
    if User.objects.filter(email__iexact=email).exists() or Customer.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            _("This e-mail is already registered. Remove it from the other account first, or use another one."),
            code="email_taken",
        )
