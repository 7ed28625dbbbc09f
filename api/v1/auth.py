"""Ninja auth classes for the partner and customer tokens of api/auth.py: the same token
rules (digest lookup, expiry, revocation by key, member or association), the same role
permissions as the portal views (a member's roles decide what their token may do)."""
from django.utils.translation import gettext as _
from ninja.security.http import HttpBearer

from api.auth import API_PERMISSION, authenticate_bearer
from api.errors import ApiError, permission_denied
from api.models import ApiToken


def partner_token_required() -> ApiError:
    return ApiError(403, "partner_token_required", _("This needs a partner token; a customer token was sent."))


def customer_token_required() -> ApiError:
    return ApiError(403, "customer_token_required", _("This needs a customer token; a partner token was sent."))


def readonly_token() -> ApiError:
    return ApiError(403, "readonly_token", _("This customer token is read-only; exchange a te_admin token to act."))


class Token(HttpBearer):
    """A valid bearer token of one of ``kinds`` whose member holds the API permission and
    every one of ``perms``; ``te_admin``: a customer token must carry the te_admin role.
    The token is ``request.auth``."""

    def __init__(self, *perms: str, kinds=(ApiToken.Kind.PARTNER,), te_admin: bool = False):
        super().__init__()
        self.perms = (API_PERMISSION, *perms)
        self.kinds = kinds
        self.te_admin = te_admin

    def __call__(self, request):
        token = authenticate_bearer(request)  # raises the 401s with their codes
        if not token.member.has_perms(self.perms):
            raise permission_denied()
        if token.kind not in self.kinds:
            raise partner_token_required() if token.kind == ApiToken.Kind.CUSTOMER else customer_token_required()
        if self.te_admin and token.kind == ApiToken.Kind.CUSTOMER and token.role != ApiToken.Role.TE_ADMIN:
            raise readonly_token()
        request.api_token = token
        return token

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the work
        raise NotImplementedError


def partner(*perms: str) -> Token:
    return Token(*perms)


def any_token(*perms: str) -> Token:
    return Token(*perms, kinds=(ApiToken.Kind.PARTNER, ApiToken.Kind.CUSTOMER))


def customer(*, te_admin: bool = False) -> Token:
    """A customer token (exchanged for one reseller customer, R28)."""
    return Token(kinds=(ApiToken.Kind.CUSTOMER,), te_admin=te_admin)
