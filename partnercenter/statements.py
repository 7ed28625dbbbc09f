"""Helpers for the few statements written by hand on the hot path of every page (the member's
roles, the customer list's manager choices: DEVELOPERS.md, rule 15). Only the models' quoted
table and column names go into the text; values are always parameters.
``tests/test_hand_written_statements.py`` holds each statement to the ORM query it stands for."""
from collections.abc import Callable

from django.db import connections, router


class Names:
    """Quoted table and column names of models, as one database spells them."""

    def __init__(self, alias: str):
        self.quote = connections[alias].ops.quote_name

    def table(self, model) -> str:
        return self.quote(model._meta.db_table)

    def column(self, model, field: str) -> str:
        return self.quote(model._meta.get_field(field).column)


def read(model, statement: Callable[[str], str], params: list):
    """Runs ``statement(alias)`` on the database ``model`` is read from; returns that
    database's connection and the rows."""
    alias = router.db_for_read(model)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(statement(alias), params)
        return connection, cursor.fetchall()
