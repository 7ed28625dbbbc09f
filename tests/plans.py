"""The plan PostgreSQL chooses for a queryset, for the tests that hold a statement to its index.

A handful of test rows fit one page, where a sequential scan (or a bitmap scan, or a sort of
every row) always wins: the plans named in ``forbid`` are turned off for the transaction, to
learn whether an index *can* serve the statement in its order."""
from django.db import connection


def explain(qs, *, forbid=("seqscan",)) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        for plan in forbid:
            cursor.execute(f"SET LOCAL enable_{plan} = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())
