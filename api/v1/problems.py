"""One error shape for everything under /api/v1/: problem details (RFC 9457) with our stable
``code``, per-field ``errors`` and, for a refused business rule, the ``checks`` that refused it.

Every refusal below an operation is an ``ApiError`` (api.errors, the code catalogue) or one of
the exceptions the handlers here turn into one: pydantic's validation errors, Django's
``ValidationError`` from a service, ``Http404`` from a scoped selector. Titles and messages are
in the caller's language (LocaleMiddleware reads Accept-Language)."""
import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from api.errors import ApiError, not_authenticated

logger = logging.getLogger(__name__)

PROBLEM_TYPE = "urn:partner-center:problem:"
MEDIA_TYPE = "application/problem+json"


def titles() -> dict[int, str]:
    return {
        400: _("The request is not valid"),
        401: _("Not authenticated"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Refused by a business rule"),
        410: _("No longer usable"),
        422: _("Idempotency key reused"),
        429: _("Too many requests"),
        500: _("Server error"),
        503: _("Service unavailable"),
    }


def problem(error: ApiError) -> dict:
    body = {
        "type": PROBLEM_TYPE + error.code,
        "title": titles()[error.status],
        "status": error.status,
        "detail": error.message,
        "code": error.code,
    }
    if error.fields:
        body["errors"] = error.fields
    if error.checks:
        body["checks"] = error.checks
    return body


def validation_failed(fields: dict[str, list[str]]) -> ApiError:
    return ApiError(400, "validation_failed", _("Some fields are not valid; see errors."), fields=fields)


# Pydantic error types as messages of our own, so field errors are in the caller's language.
def _field_message(error: dict, pattern_messages: dict[str, str], field: str) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_long":
        return _("Use at most %(max)d characters.") % {"max": ctx.get("max_length", 0)}
    if kind == "string_too_short" and field in pattern_messages:
        return pattern_messages[field]
    if kind == "string_too_short":
        return _("Use at least %(min)d characters.") % {"min": ctx.get("min_length", 0)}
    if kind == "string_pattern_mismatch":
        return pattern_messages.get(field) or _("This value does not have the expected form.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number.")
    if kind in ("decimal_parsing", "decimal_type", "float_parsing", "float_type"):
        return _("Enter a number.")
    if kind in ("decimal_max_digits", "decimal_max_places", "decimal_whole_digits"):
        return _("Enter an amount with at most two decimal places.")
    if kind in ("greater_than_equal", "greater_than"):
        return _("Enter a value of at least %(min)s.") % {"min": ctx.get("ge", ctx.get("gt", ""))}
    if kind in ("less_than_equal", "less_than"):
        return _("Enter a value of at most %(max)s.") % {"max": ctx.get("le", ctx.get("lt", ""))}
    if kind in ("literal_error", "enum"):
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind == "extra_forbidden":
        return _("This field is not accepted here.")
    if kind in ("bool_parsing", "bool_type"):
        return _("Enter true or false.")
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing", "date_parsing", "date_type"):
        return _("Enter a date in ISO 8601 form.")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return _("Send a JSON object.")
    if kind in ("string_type",):
        return _("Enter a text value.")
    return _("This value is not valid.")


def field_name(loc) -> str:
    """``("body", "data", "name")`` → ``name``; ``("query", "limit")`` → ``limit``;
    ``("header", "x-client-id")`` keeps its header name."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        source = parts.pop(0)
        if source == "body" and len(parts) > 1:
            parts.pop(0)  # the operation's parameter name, not the client's field
    return ".".join(parts) or "body"


def from_pydantic(errors: list[dict], pattern_messages: dict[str, str]) -> ApiError:
    fields: dict[str, list[str]] = {}
    for error in errors:
        name = field_name(error.get("loc", ()))
        fields.setdefault(name, []).append(_field_message(error, pattern_messages, name.rsplit(".", 1)[-1].lower()))
    return validation_failed(fields)


def from_django(error: DjangoValidationError) -> ApiError:
    """A refused business rule: every failed check with its code, message and advice (in the
    words the service ran the check with: the customer's for what only a customer does). One
    coded error keeps its own code (``account_name_taken``); several are ``checks_failed``."""
    checks = []
    for item in error.error_list if hasattr(error, "error_list") else [error]:
        text = " ".join(item.messages) if hasattr(item, "messages") else str(item)
        code = item.code or "refused"
        entry = {"code": code, "detail": text}
        if hasattr(item, "who_acts"):  # a failed account check (customers.checks.refusal)
            entry.update(message=item.check_message, advice=item.check_advice)
            entry["who_acts"] = list(item.who_acts)
            entry["clears_at"] = item.clears_at.isoformat() if item.clears_at else None
        checks.append(entry)
    code = checks[0]["code"] if len(checks) == 1 else "checks_failed"
    detail = " ".join(c["detail"] for c in checks)
    return ApiError(409, code, detail, checks=checks)


def install(api, pattern_messages) -> None:
    """Register the handlers on the NinjaAPI instance."""

    def respond(request, error: ApiError):
        response = api.create_response(request, problem(error), status=error.status)
        response["Content-Type"] = MEDIA_TYPE
        for name, value in error.headers.items():
            response[name] = value
        return response

    api.problem_response = respond
    api.add_exception_handler(ApiError, respond)
    api.add_exception_handler(
        NinjaValidationError, lambda request, exc: respond(request, from_pydantic(exc.errors, pattern_messages()))
    )
    api.add_exception_handler(DjangoValidationError, lambda request, exc: respond(request, from_django(exc)))
    api.add_exception_handler(AuthenticationError, lambda request, exc: respond(request, not_authenticated()))
    api.add_exception_handler(
        Http404, lambda request, exc: respond(request, ApiError(404, "not_found", not_found_message()))
    )
    api.add_exception_handler(
        PermissionDenied,
        lambda request, exc: respond(
            request, ApiError(403, "permission_denied", str(exc) or _("Your role does not allow this."))
        ),
    )
    api.add_exception_handler(
        RequestDataTooBig,
        lambda request, exc: respond(request, ApiError(400, "invalid_json", _("The request body is too large."))),
    )

    def http_error(request, exc: HttpError):
        if isinstance(exc.__cause__, ApiError):  # ninja wraps what our parser raised
            return respond(request, exc.__cause__)
        if isinstance(exc.__cause__, RequestDataTooBig):
            return respond(request, ApiError(400, "invalid_json", _("The request body is too large.")))
        if exc.status_code == 400:
            return respond(request, ApiError(400, "invalid_json", _("The request body is not valid JSON.")))
        return respond(request, ApiError(500, "server_error", server_error_message()))

    api.add_exception_handler(HttpError, http_error)

    def server_error(request, exc: Exception):
        logger.exception("API server error", exc_info=exc)
        return respond(request, ApiError(500, "server_error", server_error_message()))

    api.add_exception_handler(Exception, server_error)


def not_found_message() -> str:
    return _("Nothing with this id is visible to your organization.")


def server_error_message() -> str:
    return _("Something went wrong on our side. Try again later; if it persists, contact support.")
