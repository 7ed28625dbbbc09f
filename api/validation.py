"""Request validation driven by the same JSON Schema fragments the OpenAPI document publishes,
so what the schema promises and what the API accepts cannot drift apart.

Only the keywords the schema uses are understood: type (object, string, integer), properties,
required, additionalProperties: false, minLength, maxLength, pattern, enum, minimum, maximum."""
import json
import re
from functools import cache

from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _

from api.errors import ApiError
from api.text import refuse_invalid_text

_DIGITS = re.compile(r"[0-9]+")


@cache
def _regex(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def parse_json(request):
    """The request body as JSON (any value; the caller checks its shape), refused when any
    of its strings is not valid Unicode text (``api.text``)."""
    try:
        raw = request.body
        data = json.loads(raw or b"null")
    except RequestDataTooBig:
        raise ApiError(400, "invalid_json", _("The request body is too large.")) from None
    # ValueError covers bad JSON, bad UTF-8 and over-long integers; RecursionError deep nesting.
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", _("The request body is not valid JSON.")) from None
    refuse_invalid_text(data)
    return data


def validate_body(request, schema: dict, pattern_messages: dict[str, str] | None = None) -> dict:
    return validate_object(parse_json(request), schema, pattern_messages)


def validate_object(value, schema: dict, pattern_messages: dict[str, str] | None = None) -> dict:
    if not isinstance(value, dict):
        raise ApiError(400, "validation_failed", _("The request body must be a JSON object."))
    errors: dict[str, list[str]] = {}
    properties = schema["properties"]
    for name in schema.get("required", []):
        if name not in value:
            errors[name] = [_("This field is required.")]
    if schema.get("additionalProperties") is False:
        for name in value:
            if name not in properties:
                errors[name] = [_("Unknown field.")]
    for name, field_value in value.items():
        if name in properties and name not in errors:
            message = _check(field_value, properties[name], (pattern_messages or {}).get(name))
            if message:
                errors[name] = [message]
    if errors:
        raise ApiError(400, "validation_failed", _("Some fields are not valid."), fields=errors)
    return value


def validate_query(query, parameters: list[dict]) -> dict:
    """Query parameters; one the schema does not name is refused like an unknown body field."""
    known = {parameter["name"] for parameter in parameters}
    unknown = {name: [_("Unknown parameter.")] for name in query if name not in known}
    if unknown:
        raise ApiError(400, "validation_failed", _("Some parameters are not valid."), fields=unknown)
    return validate_parameters(query, parameters)


def validate_parameters(source, parameters: list[dict], pattern_messages: dict[str, str] | None = None) -> dict:
    """Query parameters or headers (``source`` is ``request.GET`` or ``request.headers``),
    each a string on the wire; integers are converted strictly (ASCII digits only)."""
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for parameter in parameters:
        name, schema = parameter["name"], parameter["schema"]
        raw = source.get(name)
        if raw is None:
            if parameter.get("required"):
                errors[name] = [_("This field is required.")]
            continue
        value = raw
        if schema["type"] == "integer":
            if not _DIGITS.fullmatch(raw) or len(raw) > 20:
                errors[name] = [_("Enter a whole number.")]
                continue
            value = int(raw)
        message = _check(value, schema, (pattern_messages or {}).get(name))
        if message:
            errors[name] = [message]
        else:
            cleaned[name] = value
    if errors:
        raise ApiError(400, "validation_failed", _("Some parameters are not valid."), fields=errors)
    return cleaned


def _check(value, schema: dict, pattern_message: str | None) -> str | None:
    kind = schema["type"]
    if kind == "string":
        if not isinstance(value, str):
            return _("Enter text.")
        if "enum" in schema and value not in schema["enum"]:
            return _("Use one of: %(choices)s.") % {"choices": ", ".join(schema["enum"])}
        if "pattern" in schema and not _regex(schema["pattern"]).fullmatch(value):
            return pattern_message or _("This value does not have the expected form.")
        if len(value) < schema.get("minLength", 0):
            return _("Use at least %(min)d characters.") % {"min": schema["minLength"]}
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return _("Use at most %(max)d characters.") % {"max": schema["maxLength"]}
        return None
    if kind == "integer":
        # bool is an int in Python but not in JSON.
        if not isinstance(value, int) or isinstance(value, bool):
            return _("Enter a whole number.")
        if "minimum" in schema and value < schema["minimum"]:
            return _("Use a number of at least %(min)d.") % {"min": schema["minimum"]}
        if "maximum" in schema and value > schema["maximum"]:
            return _("Use a number of at most %(max)d.") % {"max": schema["maximum"]}
        return None
    raise ValueError(f"unsupported schema type {kind!r}")
