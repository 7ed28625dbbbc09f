"""One keyset page of an API v1 list as JSON: every list operation builds its paginator
(``partnercenter.pagination.KeysetPaginator``: the filtered rows, the ordering, a scope naming
the list and whose it is) and hands it here with its row → JSON function."""
from collections.abc import Callable

from django.utils.translation import gettext as _

from api.errors import ApiError
from partnercenter.pagination import InvalidCursor, KeysetPaginator


def invalid_cursor() -> ApiError:
    return ApiError(404, "invalid_cursor", _("This cursor does not belong to this list. Start again without a cursor."))


def page_of(paginator: KeysetPaginator, cursor: str):
    """The page ``cursor`` points at (page one without one); a cursor of another list, of
    other filters or tampered with is a 404 ``invalid_cursor``."""
    try:
        return paginator.page(cursor or None)
    except InvalidCursor:
        raise invalid_cursor() from None


def page_json(paginator: KeysetPaginator, cursor: str, row_json: Callable) -> dict:
    """``{"results": [...], "next_cursor": ..., "previous_cursor": ...}`` of one page."""
    page = page_of(paginator, cursor)
    return {
        "results": [row_json(row) for row in page.rows],
        "next_cursor": page.next_cursor,
        "previous_cursor": page.prev_cursor,
    }
