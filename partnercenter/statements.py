"""Helpers for the few statements written by hand on the hot path of every page (the member's
roles, the customer list's manager choices: DEVELOPERS.md, rule 15). Only the models' quoted
table and column names go into the text; values are always parameters.
``tests/test_hand_written_statements.py`` holds each statement to the ORM query it stands for."""
from collections.abc import Callable

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
