"""CSV exports written by the database: ``COPY (SELECT …) TO STDOUT`` on PostgreSQL (issue 9).

An export built row by row in Python (a tuple from psycopg, then ``csv.writer``) spends as long
again as reading the rows; PostgreSQL's COPY writes the same CSV several times faster (figures in
bench/README.md) and hands it over in blocks, so memory stays flat however many rows there are.

The rows come as a ``values_list`` queryset whose columns are the finished cells, computed in
SQL: translated labels with :func:`label`, cells a spreadsheet would run defused with
:class:`Neutralised`, timestamps with :class:`UtcSeconds`. Elsewhere (SQLite) the same
queryset is read and written by ``csv.writer``, so both databases export the same file.
Lines end with ``\\n``, as COPY writes them.
"""
import csv
import io
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import Case, CharField, F, Func, QuerySet, Value, When

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection); some
# also read the full-width forms (＝＋－＠, as an IME types them) as the ASCII ones.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Rows read per round trip, and rows written per chunk, where Python writes the file.
FETCH_ROWS = 2000
CHUNK_ROWS = 500


class Neutralised(Func):
    """Text prefixed with a quote when it starts like a spreadsheet formula."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        starts = ", ".join(["%s"] * len(FORMULA_STARTS))
        # The text appears three times, and so do its parameters.
        return (
            f"CASE WHEN SUBSTR({sql}, 1, 1) IN ({starts}) THEN '''' || {sql} ELSE {sql} END",
            [*params, *FORMULA_STARTS, *params, *params],
        )


class UtcSeconds(Func):
    """A timestamp as "YYYY-MM-DD HH:MM:SS" in UTC, formatted by the database."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        utc = Func(*self.source_expressions, template="(%(expressions)s AT TIME ZONE 'UTC')")
        return Func(utc, Value("YYYY-MM-DD HH24:MI:SS"), function="to_char", output_field=CharField()).as_sql(
            compiler, connection
        )

    def as_sqlite(self, compiler, connection, **extra):
        return Func(
            Value("%Y-%m-%d %H:%M:%S"), *self.source_expressions, function="strftime", output_field=CharField()
        ).as_sql(compiler, connection)


def label(field: str, labels: dict[str, str]) -> Case:
    """The label of ``field``'s code, translated by the caller (codes without one stay as they are)."""
    return Case(
        *[When(**{field: code}, then=Value(text)) for code, text in labels.items()],
        default=F(field),
        output_field=CharField(),
    )


def _text(cells) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def stream_csv(
    rows: QuerySet, header: list[str], *, fetch_rows: int = FETCH_ROWS, chunk_rows: int = CHUNK_ROWS
) -> Iterator[bytes]:
    """The CSV file of ``rows`` (a ``values_list`` of finished cells) under ``header``, in
    blocks; a byte order mark first so spreadsheet programs read UTF-8 (Chinese names)."""
    yield ("\ufeff" + _text(header)).encode()
    connection = connections[rows.db]
    if connection.vendor == "postgresql":
        try:
            sql, params = rows.query.sql_with_params()
        except EmptyResultSet:  # a queryset.none(): filters that select nothing
            return
        copy = f"COPY ({connection.ops.compose_sql(sql, params)}) TO STDOUT WITH (FORMAT csv)"
        # One statement streams the whole file, as slowly as the client reads it: it gets
        # the export's own time limit rather than the page's (SET LOCAL: this transaction only).
        with transaction.atomic(using=rows.db, savepoint=False), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(export_timeout_ms())])
            with cursor.copy(copy) as blocks:
                for block in blocks:
                    yield bytes(block)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for count, row in enumerate(rows.iterator(chunk_size=fetch_rows), start=1):
        writer.writerow(row)
        if count % chunk_rows == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def export_timeout_ms() -> int:
    return settings.PARTNER_CENTER.get("EXPORT_STATEMENT_TIMEOUT_MS", 600_000)
