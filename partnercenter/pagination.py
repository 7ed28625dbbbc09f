"""Keyset (cursor) pagination: a deep page costs what page 1 costs.

The cursor is the sort key of the row at the page boundary, signed so a forged or edited
cursor is detected and reported as a bad cursor instead of reaching the database. Every list
(page or API) goes through ``list_page``: it signs cursors for the list's own scope, filters
and sort, restarts at page one on a bad cursor, and counts the rows without a full COUNT(*)."""
import datetime
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

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
        return json.dumps(obj, cls=_CursorEncoder, separators=(",", ":")).encode()

    def loads(self, data):
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

    def _after(self, values, forward: bool):
        """Rows strictly after ``values`` in the walking direction, as one row-value
        comparison, ``(started_at, id) < (…, …)`` (Django's tuple lookups): PostgreSQL serves
        it as the index range itself, every column in the ``Index Cond``. The equivalent
        ``a < x OR (a = x AND b < y)`` is only a filter over every row before the cursor; with
        the leading bound ``a <= x`` this used before, the range started at the cursor but
        rows sharing its first value were still read and filtered (issue 17; bench/README).
        SQLite compares row values too."""
        less = self.descending == forward
        lookup = TupleLessThan if less else TupleGreaterThan
        return lookup(Tuple(*self.fields), tuple(values))

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
    paging through a big list does not count again on every page, and each process keeps a copy
    until the same moment (``_kept_estimate``)."""
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
        cached = _kept_estimate(key) if key else None
        if cached is not None:
            return cached, True
        with connection.cursor() as cur:
            cur.execute("SELECT total, estimated FROM pc_bounded_count(%s, %s, %s)", [query, limit, max_cost])
            total, estimated = cur.fetchone()
        if estimated and key:
            _keep_estimate(key, total)
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
    # "moment": the entry is (estimate, the moment it ends). Entries of the version before,
    # a bare estimate under "pc:estimate:", are left to expire: a process of that version
    # still running beside this one (a rolling deploy) would read a pair as a count.
    return f"pc:estimate:moment:{digest}"


# The estimates this process has read from the cache or made, under their full cache key, with
# the moment they stop being good: a page of a big list finds its estimate here without a
# round trip to Redis (0.2 ms of the customer list's page, issue 17). The moment travels with
# the value in the shared cache, so a copy here never outlives the shared entry.
_local_estimates: dict[str, tuple[int, float]] = {}
_LOCAL_ESTIMATES_MAX = 1000


def _kept_estimate(key: str) -> int | None:
    local_key = cache.make_and_validate_key(key)
    now = time.time()
    found = _local_estimates.get(local_key)
    if found is not None and found[1] > now:
        return found[0]
    value = cache.get(key)
    if value is None:
        return None
    total, until = value
    if until <= now:
        return None
    if len(_local_estimates) >= _LOCAL_ESTIMATES_MAX:
        _local_estimates.clear()
    _local_estimates[local_key] = (total, until)
    return total


def _keep_estimate(key: str, total: int) -> None:
    seconds = settings.PARTNER_CENTER["ESTIMATE_CACHE_SECONDS"]
    until = time.time() + seconds
    cache.set(key, (total, until), seconds)
    if len(_local_estimates) >= _LOCAL_ESTIMATES_MAX:
        _local_estimates.clear()
    _local_estimates[cache.make_and_validate_key(key)] = (total, until)


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


# One list page ---------------------------------------------------------------------------------

_UNSET: Any = object()


@dataclass
class ListPage:
    """What a list shows, as data: the rows and cursors (``page``), the bounded count and the
    query string the pager's links keep. ``context()`` is what the list templates read; the
    API reads the fields."""

    page: Page
    form: forms.Form | None = None
    total: int | None = None
    total_is_estimate: bool = False
    base_query: str = ""
    cursor_rejected: bool = False

    @property
    def rows(self) -> list:
        return self.page.rows

    @property
    def next_cursor(self) -> str | None:
        return self.page.next_cursor

    @property
    def prev_cursor(self) -> str | None:
        return self.page.prev_cursor

    def context(self, **extra) -> dict:
        return {
            "form": self.form,
            "page": self.page,
            "total": self.total,
            "total_is_estimate": self.total_is_estimate,
            "base_query": self.base_query,
            **extra,
        }


def filter_data(request: HttpRequest) -> QueryDict | None:
    """The query string a list's filter form is bound to: everything but the cursor, or None
    when nothing else is there (so page two of an unfiltered list is still unfiltered)."""
    data = request.GET.copy()
    data.pop("cursor", None)
    return data or None


def form_filters(form: forms.Form | None) -> dict | None:
    """A filter form's cleaned filters: ``{}`` unbound, None when a value is not valid."""
    if form is None or not form.is_bound:
        return {}
    return form.cleaned_data if form.is_valid() else None


def filtered(queryset: QuerySet, form: forms.Form, apply: Callable[..., QuerySet]) -> QuerySet:
    """``queryset`` narrowed by ``apply(queryset, **cleaned_data)`` when ``form`` is bound;
    no rows when a value is not valid (the form shows the error)."""
    filters = form_filters(form)
    if filters is None:
        return queryset.none()
    return apply(queryset, **filters) if filters else queryset


def filters_scope(filters: dict | None) -> str:
    """The part of a cursor's scope that names the filters: a cursor from one filter is not
    valid under another. Empty values are left out, so an unbound form and a bound one with
    every field empty are the same list."""
    if filters is None:
        return "invalid"
    kept = {name: _scope_value(value) for name, value in filters.items() if not _is_empty(value)}
    if not kept:
        return ""
    text = json.dumps(kept, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _is_empty(value) -> bool:
    if value is None or value is False or value == "":
        return True
    return isinstance(value, list | tuple | set | frozenset | QuerySet) and not value


def _scope_value(value):
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, list | tuple | set | frozenset | QuerySet):
        return sorted(str(_scope_value(item)) for item in value)
    return value


def list_page(
    request: HttpRequest | None,
    *,
    queryset: QuerySet,
    ordering: list[str],
    scope: str,
    form: forms.Form | None = None,
    filters: dict | None = _UNSET,
    listing: QuerySet | None = None,
    row: Callable[[Any], Any] | None = None,
    count: bool = True,
    cursor: str | None = _UNSET,
    page_size: int | None = None,
    restart_on_invalid_cursor: bool = True,
) -> ListPage:
    """One page of a list: form → cursor scope → keyset page → bounded count.

    ``queryset`` is the list already narrowed by its filters; it is what is counted.
    ``listing`` (default ``queryset``) is the same rows as the page reads them (annotated,
    with joins, or as ``values_list`` for ``row``). ``scope`` names the list and whose it is
    (``"records:<partner>:<tab>"``); the ordering and the filters (``filters``, default the
    cleaned data of ``form``) are added to it, so a cursor serves only the list it came from.
    ``cursor`` defaults to the request's ``cursor`` parameter. A bad cursor restarts at page
    one with a message, or raises ``InvalidCursor`` when ``restart_on_invalid_cursor`` is
    False (an API answers with its own error). ``count=False`` skips the count."""
    if filters is _UNSET:
        filters = form_filters(form)
    if cursor is _UNSET:
        cursor = request.GET.get("cursor") if request is not None else None
    full_scope = f"{scope}:{','.join(ordering)}:{filters_scope(filters)}"
    paginator = KeysetPaginator(
        queryset if listing is None else listing, ordering, page_size=page_size, scope=full_scope, row=row
    )
    rejected = False
    try:
        page = paginator.page(cursor or None)
    except InvalidCursor:
        if not restart_on_invalid_cursor:
            raise
        if request is not None:
            messages.error(request, _("That page link is no longer valid; showing the first page."))
        page, rejected = paginator.page(None), True
    result = ListPage(page=page, form=form, cursor_rejected=rejected)
    if count:
        result.total, result.total_is_estimate = bounded_count(queryset, page=page)
    if request is not None:
        query = request.GET.copy()
        query.pop("cursor", None)
        result.base_query = query.urlencode()
    return result
