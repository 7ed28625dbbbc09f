"""Every API error has a stable code (SPEC R28); api.v1.problems answers it as RFC 9457
problem details. Integrations branch on the code; the message is for people, in the caller's
language (Accept-Language)."""
from django.http import JsonResponse
from django.utils.translation import gettext as _

# The code catalogue, by HTTP status. The OpenAPI document lists these per response.
CODES = {
    400: ["invalid_json", "validation_failed", "invalid_idempotency_key"],
    401: ["not_authenticated", "token_invalid", "token_expired", "token_revoked", "invalid_credentials"],
    403: ["permission_denied", "partner_token_required", "customer_token_required", "readonly_token",
          "billing_key_required"],
    404: ["not_found", "customer_not_found", "invalid_cursor", "link_invalid"],
    405: ["method_not_allowed"],
    # A refused business rule: the service's own code (these, a check's code, ...) or
    # checks_failed when several checks failed; the problem's ``checks`` lists each.
    409: ["account_name_taken", "email_taken", "customer_is_referral", "association_ended", "checks_failed",
          "idempotency_key_in_use"],
    # A genuine invitation link that no longer works (used, declined, expired, revoked, superseded).
    410: ["link_unusable"],
    422: ["idempotency_key_reused"],
    429: ["too_many_attempts", "registration_limit_exceeded"],
    500: ["server_error"],
    503: ["rate_limit_unavailable"],
}
# 409 carries the refusing service's code, which is open-ended (every check has its own).
OPEN_CODES = {409}


class ApiError(Exception):
    """Raised anywhere below an API view; the view answers with it and nothing else happens."""

    def __init__(self, status: int, code: str, message: str, *, fields=None, headers=None, checks=None):
        assert status in OPEN_CODES or code in CODES[status], code
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields
        self.checks = checks
        self.headers = headers or {}


def not_authenticated() -> ApiError:
    return ApiError(
        401,
        "not_authenticated",
        _("Send a token in the Authorization header: Bearer <token>. Get one from POST /api/tokens."),
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


def unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": f'Bearer realm="api", error="{code}"'})


def registration_limit_exceeded(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "registration_limit_exceeded",
        _(
            "The number of registrations from your client has exceeded the limit. "
            "Please try again later or register from another client."
        ),
        headers={"Retry-After": str(retry_after)},
    )


def rate_limit_unavailable() -> ApiError:
    return ApiError(
        503,
        "rate_limit_unavailable",
        _("Registrations cannot be counted at the moment, so none are accepted. Please try again in a few minutes."),
        headers={"Retry-After": "60"},
    )


def permission_denied() -> ApiError:
    return ApiError(403, "permission_denied", _("Your role does not allow this. Ask your partner administrator."))


def server_error(request) -> JsonResponse:
    """What an unhandled error under /api/ outside the API's own handlers answers
    (``partnercenter.views.error_500``): problem details like every other API error."""
    from api.v1.problems import server_error_message

    message = server_error_message()
    request_id = getattr(request, "id", None)
    if request_id:
        message = f"{message} {_('Request id')}: {request_id}"
    return problem_response(ApiError(500, "server_error", message))


def problem_response(error: ApiError) -> JsonResponse:
    """An API error answered outside the API's own handlers (CSRF failure, server error)."""
    from api.v1.problems import MEDIA_TYPE, problem

    response = JsonResponse(problem(error), status=error.status, content_type=MEDIA_TYPE)
    for name, value in error.headers.items():
        response[name] = value
    return response
