"""ORM expressions the portal's reads share.

``JSONRows`` folds the rows of a small one-to-many relation into one JSON array, so a page can
read them with the row they belong to (a correlated subquery) instead of in a statement of
their own: ``jsonb_agg`` on PostgreSQL, ``json_group_array`` on SQLite. The values come back as
JSON: :func:`json_moment` turns a date-time back into an aware ``datetime``, and
:func:`json_instance` a row of :func:`json_fields` back into the model instance it stands for."""
import json
from datetime import UTC, datetime
from decimal import Decimal

from django.db import models
from django.db.models import Aggregate, JSONField
from django.db.models.functions import JSONObject
from django.utils.dateparse import parse_date, parse_datetime


class DecimalJSONDecoder(json.JSONDecoder):
    """Reads JSON numbers with a fraction as ``Decimal``: money never passes through a float."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "parse_float": Decimal})


class JSONRows(Aggregate):
    function = "JSON_GROUP_ARRAY"
    output_field = JSONField(decoder=DecimalJSONDecoder)

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra)


def json_moment(value: str) -> datetime:
    """A date-time as ``JSONRows`` gives it (ISO 8601 with its offset on PostgreSQL, the
    stored UTC text on SQLite) as an aware datetime."""
    moment = parse_datetime(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def json_fields(model: type[models.Model]) -> JSONObject:
    """Every column of ``model``, by attribute name, as one JSON object for ``JSONRows``."""
    return JSONObject(**{f.attname: f.attname for f in model._meta.concrete_fields})


def json_instance(model: type[models.Model], row: dict, *, using: str = "default") -> models.Model:
    """The ``model`` instance a row of :func:`json_fields` stands for, as the ORM would have
    loaded it: date-times aware again, amounts ``Decimal`` with their field's places (SQLite's
    JSON writes 25.50 as 25.5)."""
    values = []
    for field in model._meta.concrete_fields:
        value = row[field.attname]
        if value is not None:
            if isinstance(field, models.DateTimeField):
                value = json_moment(value)
            elif isinstance(field, models.DateField):
                value = parse_date(value)
            elif isinstance(field, models.DecimalField):
                value = Decimal(str(value)).quantize(Decimal(1).scaleb(-field.decimal_places))
        values.append(value)
    return model.from_db(using, [f.attname for f in model._meta.concrete_fields], values)
