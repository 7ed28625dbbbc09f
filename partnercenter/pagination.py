"""Keyset (cursor) pagination: a deep page costs what page 1 costs.

The cursor is the sort key of the row at the page boundary, signed so a forged or edited
cursor is detected and reported as a bad cursor instead of reaching the database."""
import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.db.models import Q, QuerySet

_SALT = "partnercenter.cursor"
MAX_CURSOR_LENGTH = 512


class InvalidCursor(ValueError):
    pass


class _CursorEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder keeps milliseconds only: a cursor on a timestamp must keep every
    microsecond, or rows within the same millisecond as the page boundary are skipped."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        return super().default(o)


class _Serializer:
    def dumps(self, obj):
        import json

        return json.dumps(obj, cls=_CursorEncoder, separators=(",", ":")).encode()

    def loads(self, data):
        import json

        return json.loads(data.decode())


class ListedRow:
    """Base of the dataclasses a list's rows are read into (``row=`` of the paginator): ``pk``
    as on a model, for templates and cursors. Subclasses are ``@dataclass(slots=True)`` with
    an ``id`` field."""

    __slots__ = ()

    @property
    def pk(self) -> int:
        return self.id


@dataclass
class Page:
    rows: list
    next_cursor: str | None = None
    prev_cursor: str | None = None
    total: int | None = None
    total_is_estimate: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.prev_cursor)


class KeysetPaginator:
    """``ordering`` is a list like ``["-started_at", "-id"]``; the last field must be unique.
    All fields sort in the same direction, which lets an index serve both directions."""

    def __init__(
        self,
        queryset: QuerySet,
        ordering: list[str],
        page_size: int | None = None,
        scope: str = "",
        row: Callable[[Any], Any] | None = None,
    ):
        directions = {f.startswith("-") for f in ordering}
        if len(directions) != 1:
            raise ValueError("Keyset ordering fields must share one direction.")
        self.queryset = queryset
        # Makes each fetched row (a values_list tuple, say) the object the page shows; the
        # ordering fields are read from that object.
        self.row = row
        self.ordering = ordering
        self.descending = ordering[0].startswith("-")
        self.fields = [f.lstrip("-") for f in ordering]
        self.page_size = page_size or settings.PARTNER_CENTER["PAGE_SIZE"]
        # The cursor is only valid for the list it came from (same filters and sort).
        self.salt = f"{_SALT}:{scope}"

    # cursor encoding -----------------------------------------------------------
    def _encode(self, row, direction: str) -> str:
        values = [_attr(row, f) for f in self.fields]
        return signing.dumps({"v": values, "d": direction}, salt=self.salt, serializer=_Serializer, compress=True)

    def _decode(self, cursor: str) -> tuple[list[Any], str]:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise InvalidCursor("cursor too long")
        try:
            data = signing.loads(cursor, salt=self.salt, serializer=_Serializer)
            values, direction = data["v"], data["d"]
        except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
            raise InvalidCursor(str(exc)) from None
        if direction not in ("next", "prev") or not isinstance(values, list) or len(values) != len(self.fields):
            raise InvalidCursor("malformed cursor")
        model = self.queryset.model
        try:
            values = [_field_for(model, f).to_python(v) for f, v in zip(self.fields, values, strict=True)]
        except Exception as exc:  # a signed cursor from an older version of the list
            raise InvalidCursor(str(exc)) from None
        return values, direction

    def _after(self, values, forward: bool) -> Q:
        """Rows strictly after ``values`` in the walking direction."""
        less = self.descending == forward
        op = "lt" if less else "gt"
        op_eq = "lte" if less else "gte"
        condition = Q()
        for i in reversed(range(len(self.fields))):
            strict = Q(**{f"{self.fields[i]}__{op}": values[i]})
            condition = strict if i == len(self.fields) - 1 else strict | (Q(**{self.fields[i]: values[i]}) & condition)
        # A leading bound lets the index range scan start at the cursor.
        return Q(**{f"{self.fields[0]}__{op_eq}": values[0]}) & condition

    def page(self, cursor: str | None) -> Page:
        forward = True
        qs = self.queryset
        if cursor:
            values, direction = self._decode(cursor)
            forward = direction == "next"
            qs = qs.filter(self._after(values, forward))
        order = self.ordering if forward else [_flip(f) for f in self.ordering]
        rows = list(qs.order_by(*order)[: self.page_size + 1])
        if self.row is not None:
            rows = [self.row(r) for r in rows]
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if not forward:
            rows.reverse()
        page = Page(rows=rows)
        if rows:
            if (more if forward else bool(cursor)):
                page.next_cursor = self._encode(rows[-1], "next")
            if (bool(cursor) if forward else more):
                page.prev_cursor = self._encode(rows[0], "prev")
        return page


def bounded_count(queryset: QuerySet, limit: int | None = None, *, page: Page | None = None) -> tuple[int, bool]:
    """An exact count up to ``limit``; past it, the planner's estimate on PostgreSQL (or the
    limit elsewhere). Returns (number, is_estimate). Never a full COUNT(*) over a large set.

    ``page``: the page just read from ``queryset``; when it is the only page, its rows are the
    count (up to the limit) and no query runs. On PostgreSQL the count is one statement, ``pc_bounded_count()``
    (partnercenter migration 0001), which also answers with the estimate straight away when
    the planner says even the limited count would cost more than ``EXACT_COUNT_MAX_COST`` (a
    filter no index serves, such as a customer fact, would otherwise visit every candidate).
    An estimate is kept in the cache for ``ESTIMATE_CACHE_SECONDS`` under its statement, so
    paging through a big list does not count again on every page."""
    limit = limit or settings.PARTNER_CENTER["EXACT_COUNT_LIMIT"]
    if page is not None and not page.has_other_pages and len(page.rows) <= limit:
        return len(page.rows), False
    connection = connections[queryset.db]
    if connection.vendor == "postgresql":
        try:
            sql, params = queryset.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:
            return 0, False
        max_cost = settings.PARTNER_CENTER.get("EXACT_COUNT_MAX_COST", 1000)
        query = connection.ops.compose_sql(sql, params)
        key = _estimate_key(queryset.db, query, limit, max_cost)
        cached = cache.get(key) if key else None
        if cached is not None:
            return cached, True
        with connection.cursor() as cur:
            cur.execute("SELECT total, estimated FROM pc_bounded_count(%s, %s, %s)", [query, limit, max_cost])
            total, estimated = cur.fetchone()
        if estimated and key:
            cache.set(key, total, settings.PARTNER_CENTER["ESTIMATE_CACHE_SECONDS"])
        return total, estimated
    exact = queryset.order_by()[: limit + 1].count()
    return (exact, False) if exact <= limit else (limit, True)


def _estimate_key(alias: str, query: str, limit: int, max_cost) -> str | None:
    """Where an estimate for this exact statement is kept. Only estimates are kept (a list past
    the exact limit, where "About N" moves little in a minute): an exact count is always
    counted again, so small lists never show a stale number."""
    if settings.PARTNER_CENTER["ESTIMATE_CACHE_SECONDS"] <= 0:
        return None
    digest = hashlib.sha256(f"{alias}\0{limit}\0{max_cost}\0{query}".encode()).hexdigest()
    return f"pc:estimate:{digest}"


def _flip(f: str) -> str:
    return f[1:] if f.startswith("-") else f"-{f}"


def _attr(row, path: str):
    value = row
    for part in path.split("__"):
        value = getattr(value, part if part != "pk" else "pk")
    return value


def _field_for(model, path: str):
    parts = path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    last = parts[-1]
    return model._meta.pk if last == "pk" else model._meta.get_field(last)
