"""Request bodies: JSON of valid Unicode text. ``json.loads`` accepts a lone surrogate
(``"\\ud800"``) that no database can store and no e-mail can carry, and a NUL that PostgreSQL
refuses; ``api.text`` refuses them with the field named, before any schema or service sees it."""
import json

from django.utils.translation import gettext as _
from ninja.parser import Parser

from api.errors import ApiError
from api.text import refuse_invalid_text


def invalid_json() -> ApiError:
    return ApiError(400, "invalid_json", _("The request body is not valid JSON."))


class UnicodeJSONParser(Parser):
    def parse_body(self, request):
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError):
            raise invalid_json() from None
        refuse_invalid_text(data)
        return data
