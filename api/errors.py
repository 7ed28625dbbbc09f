"""Every API error is JSON with a stable code (SPEC R28): ``{"error": {"code", "message",
"fields"?}}``. Integrations branch on the code; the message is for people, in the caller's
language (Accept-Language)."""
from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from django.utils.translation import gettext as _

# The code catalogue, by HTTP status. The OpenAPI schema lists exactly these per response.
CODES = {
    400: ["invalid_json", "validation_failed"],
    401: ["not_authenticated", "token_invalid", "token_expired", "token_revoked", "invalid_credentials"],
    403: ["permission_denied", "partner_token_required"],
    404: ["not_found", "customer_not_found", "invalid_cursor"],
    405: ["method_not_allowed"],
    409: ["account_name_taken", "email_taken", "customer_is_referral", "association_ended"],
    429: ["too_many_attempts", "registration_limit_exceeded"],
    500: ["server_error"],
    503: ["rate_limit_unavailable"],
}


class ApiError(Exception):
    """Raised anywhere below an API view; the view answers with it and nothing else happens."""

    def __init__(self, status: int, code: str, message: str, *, fields=None, headers=None):
        assert code in CODES[status], code
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        error = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        response = json_response({"error": error}, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def json_response(data, *, status: int = 200) -> JsonResponse:
    response = JsonResponse(
        data, status=status, encoder=DjangoJSONEncoder, safe=False, json_dumps_params={"ensure_ascii": False}
    )
    # Tokens and customer data must not sit in shared or browser caches.
    response["Cache-Control"] = "no-store"
    return response


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


def method_not_allowed(allowed: list[str]) -> JsonResponse:
    error = ApiError(
        405,
        "method_not_allowed",
        _("This address accepts %(methods)s only.") % {"methods": ", ".join(allowed)},
        headers={"Allow": ", ".join(allowed)},
    )
    return error.response()


def server_error(request) -> JsonResponse:
    """What an unhandled error under /api/ answers (``partnercenter.views.error_500``): the
    error shape of every other API answer, with the request id the log line carries."""
    message = _("The error has been logged. Nothing was changed by the request that failed; please try again.")
    request_id = getattr(request, "id", None)
    if request_id:
        message = f"{message} {_('Request id')}: {request_id}"
    return ApiError(500, "server_error", message).response()
