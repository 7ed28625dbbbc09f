"""The API's guard for text (see ``partnercenter.text``): a JSON body holding a string that
is not valid Unicode is a 400 naming the field, before anything reads it. Run by
API v1's body parser (``api.v1.parser``)."""
from django.utils.translation import gettext as _

from api.errors import ApiError
from partnercenter.text import first_invalid_text


def refuse_invalid_text(data) -> None:
    """Raise a 400 ``validation_failed`` naming the first field (a path such as ``name`` or
    ``items[0].name``) whose text is not valid Unicode; nothing when all of it is."""
    found = first_invalid_text(data)
    if found is None:
        return
    path, problem = found
    raise ApiError(
        400, "validation_failed", _("Some fields are not valid."), fields={path or "body": [problem]}
    )
