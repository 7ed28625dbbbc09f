"""Bearer-token authentication for the JSON API.

The API never looks at the session cookie: a browser signed in to the portal gets nothing
from ``/api/`` without a token, so the endpoints can be exempt from CSRF. Each request checks
the token against its origin (member active and still permitted, key not revoked, customer
still associated in reseller type), which is what makes revocation immediate."""
import hashlib
import secrets
from functools import cache, wraps

from django.utils import timezone
from django.utils.translation import gettext as _

from api.errors import ApiError, not_authenticated, permission_denied, unauthorized
from api.models import ApiKey, ApiToken
from customers.models import Association, Customer
from organization.models import Partner, User
from partnercenter.statements import Names, columns, instances, read

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
    token = token_by_digest(digest(raw))
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


# The token, its member and the member's partner, every column of each, in that order.
_TOKEN_MODELS = (ApiToken, User, Partner)


@cache
def _token_sql(alias: str) -> str:
    """The statement behind :func:`token_by_digest`, written once per database: what
    ``ApiToken.objects.select_related("member__partner").annotate(key_revoked_at=
    F("api_key__revoked_at")).get(token_hash=…)`` reads (its joins, its columns, in its order),
    which ``tests/test_hand_written_statements.py`` holds it to."""
    n = Names(alias)
    shown = columns(n, list(zip(("t", "u", "p"), _TOKEN_MODELS, strict=True)))
    return (
        f"SELECT {shown}, k.{n.column(ApiKey, 'revoked_at')} FROM {n.table(ApiToken)} t "  # noqa: S608
        f"LEFT OUTER JOIN {n.table(ApiKey)} k ON k.{n.column(ApiKey, 'id')} = t.{n.column(ApiToken, 'api_key')} "
        f"INNER JOIN {n.table(User)} u ON u.{n.column(User, 'id')} = t.{n.column(ApiToken, 'member')} "
        f"LEFT OUTER JOIN {n.table(Partner)} p ON p.{n.column(Partner, 'id')} = u.{n.column(User, 'partner')} "
        f"WHERE t.{n.column(ApiToken, 'token_hash')} = %s"
    )


def token_by_digest(token_hash: str) -> ApiToken | None:
    """The token with this digest, with its member and the member's partner loaded and
    ``key_revoked_at`` (its API key's revocation time) set; None when there is none.

    It runs on every API request, as a hand-written prepared statement (DEVELOPERS.md, rule 15;
    its cost against the ORM query in bench/README §20). The lookup is on the unique digest;
    of the API key only whether it was revoked is read, and a customer token's customer is read
    where an operation uses it."""
    connection, rows = read(ApiToken, _token_sql, [token_hash])
    if not rows:
        return None
    revoked = ((ApiKey, "revoked_at"),)
    (token, member, partner), (key_revoked_at,) = instances(connection, _TOKEN_MODELS, rows[0], revoked)
    ApiToken.member.field.set_cached_value(token, member)
    User.partner.field.set_cached_value(member, partner)
    token.key_revoked_at = key_revoked_at
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
