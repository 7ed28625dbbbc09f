"""ORM expressions the portal's reads share.

``JSONRows`` folds the rows of a small one-to-many relation into one JSON array, so a page can
read them with the row they belong to (a correlated subquery) instead of in a statement of
their own: ``jsonb_agg`` on PostgreSQL, ``json_group_array`` on SQLite. The values come back as
JSON: :func:`json_moment` turns a date-time back into an aware ``datetime``."""
from datetime import UTC, datetime

from django.db.models import Aggregate, JSONField
from django.utils.dateparse import parse_datetime


class JSONRows(Aggregate):
    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra)


def json_moment(value: str) -> datetime:
    """A date-time as ``JSONRows`` gives it (ISO 8601 with its offset on PostgreSQL, the
    stored UTC text on SQLite) as an aware datetime."""
    moment = parse_datetime(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
