"""Trigram indexes that serve the customer list's search on PostgreSQL (issue 9).

``customers.selectors.search_filter`` uses ``icontains``, which Django emits on PostgreSQL as
``UPPER("customers_customer"."name"::text) LIKE UPPER('%term%')``. A pg_trgm GIN index on
exactly that expression serves the substring match; the three are combined with a BitmapOr.
Statistics on the same expressions let the planner estimate how many customers a term
matches, so it picks between the trigram indexes and walking the partner's list in order.
SQLite has no pg_trgm and needs none at its sizes, so elsewhere this migration does nothing.

The indexes are built CONCURRENTLY (hence ``atomic = False``) so that migrating a live
database does not block writes to the customers table while they build.
"""
from django.db import migrations

FIELDS = ("name", "email", "account_name")


def _index(field: str) -> str:
    return f"customer_{field}_upper_trgm"


def _statistics(field: str) -> str:
    return f"customer_{field}_upper_stats"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for field in FIELDS:
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{_index(field)}" ON "customers_customer" '
            f'USING gin ((UPPER("{field}"::text)) gin_trgm_ops)'
        )
        schema_editor.execute(
            f'CREATE STATISTICS IF NOT EXISTS "{_statistics(field)}" ON (UPPER("{field}"::text)) '
            f'FROM "customers_customer"'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for field in FIELDS:
        schema_editor.execute(f'DROP STATISTICS IF EXISTS "{_statistics(field)}"')
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{_index(field)}"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("customers", "0002_initial"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
