"""The common parts of the OpenAPI document: the problem responses (problem+json, with the
codes each operation can answer with) and the Idempotency-Key header of every POST."""
import copy

from django.utils.translation import gettext as _

from api.errors import CODES
from api.v1 import problems

TOKEN_ERRORS = {
    401: ["not_authenticated", "token_invalid", "token_expired", "token_revoked"],
    403: ["permission_denied", "partner_token_required", "customer_token_required", "readonly_token"],
}
IDEMPOTENCY_ERRORS = {
    400: ["invalid_idempotency_key"], 409: ["idempotency_key_in_use"], 422: ["idempotency_key_reused"]
}


def problem_schema() -> dict:
    return {
        "type": "object",
        "description": _("Problem details (RFC 9457) with the stable error code."),
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "description": _("urn:partner-center:problem: followed by the code.")},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string", "description": _("What went wrong, for people, in the caller's language.")},
            "code": {"type": "string", "description": _("Stable; integrations branch on it.")},
            "errors": {
                "type": "object",
                "description": _("Field name → messages, for invalid input."),
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
            "checks": {
                "type": "array",
                "description": _("For a refused business rule: each rule that refused, with its advice."),
                "items": {
                    "type": "object",
                    "required": ["code", "detail"],
                    "properties": {
                        "code": {"type": "string"},
                        "detail": {"type": "string"},
                        "message": {"type": "string"},
                        "advice": {"type": "string"},
                        "who_acts": {
                            "type": "array",
                            "items": {"type": "string", "enum": ["customer", "partner", "vendor"]},
                            "description": _("Who can make the check pass; empty when it clears by itself."),
                        },
                        "clears_at": {
                            "type": ["string", "null"],
                            "format": "date-time",
                            "description": _("For a cooldown: the moment it clears by itself."),
                        },
                    },
                },
            },
        },
    }


def _problem_response(status: int, codes: list[str]) -> dict:
    schema = copy.deepcopy(problem_schema())
    if status not in (409,):
        schema["properties"]["code"]["enum"] = sorted(set(codes))
    response = {"description": problems.titles()[status], "content": {problems.MEDIA_TYPE: {"schema": schema}}}
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": _("Seconds to wait before trying again."),
                "schema": {"type": "string", "pattern": "^[0-9]+$"},
            }
        }
    if status == 405:
        response["headers"] = {"Allow": {"schema": {"type": "string"}}}
    return response


def idempotency_header() -> dict:
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": _(
            "Any unique string (a UUID, say). Sending the same key and body again within 24 hours returns the "
            "first answer and changes nothing; the same key with another body is a 422."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]{1,255}$"},
    }


def with_problems(document: dict) -> dict:
    """Every operation lists the problems it can answer with, as problem+json."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            wanted: dict[int, list[str]] = {400: ["validation_failed"]}
            if "requestBody" in operation:
                wanted[400].append("invalid_json")
            if operation.get("security"):
                for status, codes in TOKEN_ERRORS.items():
                    wanted.setdefault(status, []).extend(codes)
            if operation.pop("x-idempotent", False):
                for status, codes in IDEMPOTENCY_ERRORS.items():
                    wanted.setdefault(status, []).extend(codes)
                operation.setdefault("parameters", []).append(idempotency_header())
            for status, codes in operation.pop("x-problems", {}).items():
                wanted.setdefault(int(status), []).extend(codes)
            for status, codes in wanted.items():
                assert set(codes) <= set(CODES[status]) or status == 409, (status, codes)
                operation["responses"][str(status)] = _problem_response(status, codes)
    return document


def problems_of(*, idempotent: bool = False, links: dict | None = None, **by_status: list[str]) -> dict:
    """``openapi_extra`` naming the problems an operation adds to the common ones
    (``problems_of(s404=["not_found"])``); ``idempotent``: it takes an Idempotency-Key;
    ``links``: the OpenAPI links of its answers, ``{201: [link_to(...), ...]}``."""
    extra = {"x-problems": {int(key[1:]): codes for key, codes in by_status.items()}}
    if idempotent:
        extra["x-idempotent"] = True
    if links:
        extra["responses"] = {
            # Keyed like ninja keys its responses (ints), so the links join the answer they belong to.
            int(status): {"links": {link["operationId"]: link for link in entries}} for status, entries in links.items()
        }
    return extra


def link_to(operation_id: str, **parameters: str) -> dict:
    """An OpenAPI link (create → read → act): the operation a client goes on to, each of its
    path parameters taken from this answer by a runtime expression, e.g.
    ``link_to("getRequest", request_id="$response.body#/id")``. Schemathesis follows them in
    its stateful run (tests/test_api_schema.py)."""
    return {"operationId": operation_id, "parameters": {f"path.{name}": value for name, value in parameters.items()}}


def from_body(pointer: str = "id") -> str:
    return f"$response.body#/{pointer}"


def from_first_result(pointer: str = "id") -> str:
    return f"$response.body#/results/0/{pointer}"


