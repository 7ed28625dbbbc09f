"""Request bodies: JSON objects of valid Unicode text. ``json.loads`` accepts a lone surrogate
(``"\\ud800"``) that no database can store and no e-mail can carry; it is refused here with
the field named, before any schema or service sees it."""
import json

from django.utils.translation import gettext as _
from ninja.parser import Parser

from api.errors import ApiError
from api.v1.problems import validation_failed


def invalid_json() -> ApiError:
    return ApiError(400, "invalid_json", _("The request body is not valid JSON."))


def surrogate_fields(value, path: str = "") -> list[str]:
    """The dotted paths of every string (or object key) in ``value`` holding a lone
    surrogate code point."""
    found = []
    if isinstance(value, str):
        if has_surrogate(value):
            found.append(path or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if has_surrogate(str(key)):
                found.append(name.encode("utf-8", "backslashreplace").decode())
            else:
                found.extend(surrogate_fields(item, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(surrogate_fields(item, f"{path}.{index}" if path else str(index)))
    return found


def has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unicode_message() -> str:
    return _("Use valid Unicode text: this value holds a lone surrogate code point.")


class UnicodeJSONParser(Parser):
    def parse_body(self, request):
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError):
            raise invalid_json() from None
        bad = surrogate_fields(data)
        if bad:
            raise validation_failed({name: [unicode_message()] for name in bad})
        return data
