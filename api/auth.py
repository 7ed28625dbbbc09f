"""Bearer-token authentication for the JSON API.

The API never looks at the session cookie: a browser signed in to the portal gets nothing
from ``/api/`` without a token, so the endpoints can be exempt from CSRF. Each request checks
the token against its origin (member active and still permitted, key not revoked, customer
still associated in reseller type), which is what makes revocation immediate."""
import hashlib
import secrets
from functools import wraps

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from api.errors import ApiError, not_authenticated, permission_denied, unauthorized
from api.models import ApiToken
from customers.models import Association, Customer

KEY_PREFIX = "pck_"
TOKEN_PREFIXES = {ApiToken.Kind.PARTNER: "pct_", ApiToken.Kind.CUSTOMER: "pcc_"}
API_PERMISSION = "organization.use_api"


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate_bearer(request) -> ApiToken:
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw:
        raise not_authenticated()
    # ``get`` on the unique digest, not ``first()``: its ORDER BY made PostgreSQL sort and
    # plan the joins again. Of the token's relations only the member and its partner (the
    # token's, by construction) are read; of its API key only whether it was revoked. The
    # customer of a customer token is read where an operation uses it: its wide join doubled
    # the statement's planning for every partner token (bench/README §19).
    try:
        token = (
            ApiToken.objects.select_related("member__partner")
            .annotate(key_revoked_at=F("api_key__revoked_at"))
            .get(token_hash=digest(raw))
        )
    except ApiToken.DoesNotExist:
        token = None
    if token is None:
        raise unauthorized("token_invalid", _("This token is not valid. Get a new one from POST /api/tokens."))
    if token.expires_at <= timezone.now():
        raise unauthorized("token_expired", _("This token has expired. Get a new one."))
    member = token.member
    if token.partner_id == member.partner_id:
        ApiToken.partner.field.set_cached_value(token, member.partner)
    revoked = (
        not member.is_active
        or not member.is_member
        or token.key_revoked_at is not None
        or (token.kind == ApiToken.Kind.CUSTOMER and not _still_a_reseller_customer(token))
    )
    if revoked:
        raise unauthorized(
            "token_revoked",
            _("This token no longer works: its API key was revoked, its member disabled, or the customer's "
              "association ended."),
        )
    return token


def _still_a_reseller_customer(token: ApiToken) -> bool:
    """Whether the customer of a customer token is still the partner's reseller customer: the
    customer read with the check, in one statement, and kept on the token (every customer-token
    operation reads it: a lazy read of ``token.customer`` was one more statement each)."""
    customer = Customer.objects.filter(
        pk=token.customer_id,
        associations__partner_id=token.partner_id,
        associations__status=Association.Status.ACTIVE,
        associations__type=Association.Type.RESELLER,
    ).first()
    if customer is None:
        return False
    token.customer = customer
    return True


def api_token_required(*perms: str, kinds=(ApiToken.Kind.PARTNER,)):
    """The API's counterpart of ``member_permission_required``: a valid bearer token of one of
    ``kinds`` whose member holds the API permission and every one of ``perms``. The token is
    put on ``request.api_token``."""
    required = (API_PERMISSION, *perms)

    def decorator(handler):
        @wraps(handler)
        def wrapper(request, *args, **kwargs):
            token = authenticate_bearer(request)
            if not token.member.has_perms(required):
                raise permission_denied()
            if token.kind not in kinds:
                raise ApiError(
                    403, "partner_token_required", _("This needs a partner token; a customer token was sent.")
                )
            request.api_token = token
            return handler(request, *args, **kwargs)

        return wrapper

    return decorator
