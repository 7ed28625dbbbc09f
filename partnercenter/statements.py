"""Helpers for the few statements written by hand on the hot path of every page (the signed-in
user, the member's roles, the customer list's manager choices, the API token: DEVELOPERS.md,
rule 15). Only the models' quoted table and column names go into the text; values are always
parameters. ``tests/test_hand_written_statements.py`` holds each statement to the ORM query it
stands for. A statement that reads whole rows of several models (``columns``) makes them as the
ORM does (``instances``: its converters for each column, then ``from_db``)."""
import weakref
from collections.abc import Callable, Sequence

import psycopg
from django.db import connections, router


class Names:
    """Quoted table and column names of models, as one database spells them."""

    def __init__(self, alias: str):
        self.quote = connections[alias].ops.quote_name

    def table(self, model) -> str:
        return self.quote(model._meta.db_table)

    def column(self, model, field: str) -> str:
        return self.quote(model._meta.get_field(field).column)


class _PreparedCursor(psycopg.Cursor):
    """A server-binding cursor whose statements are prepared at their first run on a
    connection (while its ``prepare_threshold`` is not None: ``DB_PREPARED_STATEMENTS``)."""

    def execute(self, query, params=None, **kwargs):
        return super().execute(query, params, prepare=True, **kwargs)


def _cursor(connection):
    """A cursor for a hand-written statement. On PostgreSQL, a prepared one: its plan is made
    once per connection instead of on every request (planning was most of its time). While
    queries are logged (DEBUG, a test or the bench counting them) it runs as any other query,
    so the log has its text with its values: a prepared statement's text is not kept."""
    if connection.vendor != "postgresql" or connection.queries_logged:
        return connection.cursor()
    connection.ensure_connection()
    return connection.make_cursor(_PreparedCursor(connection.connection))


def read(model, statement: Callable[[str], str], params: list):
    """Runs ``statement(alias)`` on the database ``model`` is read from; returns that
    database's connection and the rows."""
    alias = router.db_for_read(model)
    connection = connections[alias]
    with _cursor(connection) as cursor:
        cursor.execute(statement(alias), params)
        return connection, cursor.fetchall()


def columns(names: Names, tables: Sequence[tuple[str, type]]) -> str:
    """Every concrete column of each model, qualified by its table's alias in the statement, in
    the models' field order: what ``select_related`` reads of them."""
    return ", ".join(
        f"{alias}.{names.quote(field.column)}" for alias, model in tables for field in model._meta.concrete_fields
    )


# Per connection and models: (column index, column, the converters the ORM would apply to it),
# for the columns that have any (SQLite's booleans, decimals and aware datetimes, say).
_converters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _converters_of(connection, models: tuple, extra: tuple) -> list:
    known = _converters.setdefault(connection, {})
    found = known.get((models, extra))
    if found is None:
        cols = [field.get_col(model._meta.db_table) for model in models for field in model._meta.concrete_fields]
        cols += [model._meta.get_field(name).get_col(model._meta.db_table) for model, name in extra]
        found = [
            (i, column, converters) for i, column in enumerate(cols)
            if (converters := connection.ops.get_db_converters(column) + column.get_db_converters(connection))
        ]
        known[(models, extra)] = found
    return found


def instances(connection, models: tuple, row: Sequence, extra: tuple = ()) -> tuple[list, list]:
    """The instances of ``models`` whose whole rows (``columns``) start ``row``, each None
    where its primary key is NULL (a LEFT JOIN that found nothing), and the values after them:
    the columns ``extra`` names as (model, field name), converted as the ORM would."""
    values = list(row)
    for i, column, converters in _converters_of(connection, models, extra):
        for converter in converters:
            values[i] = converter(values[i], column, connection)
    made, start = [], 0
    for model in models:
        count = len(model._meta.concrete_fields)
        own = values[start: start + count]
        made.append(model.from_db(connection.alias, None, own) if own[0] is not None else None)
        start += count
    return made, values[start:]
