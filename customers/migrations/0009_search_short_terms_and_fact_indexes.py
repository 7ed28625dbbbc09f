"""Indexes for the customer list's searches and filters that had none (issue 17).

- ``pc_cjk_bigrams(text)``: the pairs of adjacent Chinese, Japanese or Korean characters of a
  text, and a GIN index of the customer names' pairs. A two-character term such as 华为 has no
  trigram to look up, so the trigram indexes of migration 0003 cannot serve it (the search
  read every customer); ``customers.selectors.CJKPairIn`` asks this index instead. A name
  without such characters has no pairs and costs the index next to nothing.
- Partial indexes of the frozen customers and of those in arrears, the list's rare facts.

SQLite has neither pg_trgm nor GIN and needs neither at its sizes: the function and its index
are made on PostgreSQL only (CONCURRENTLY, hence ``atomic = False``), the partial indexes
everywhere.
"""
from django.db import migrations, models

CJK = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"

FUNCTION = rf"""
CREATE OR REPLACE FUNCTION pc_cjk_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN value ~ '{CJK}' THEN ARRAY(
        SELECT DISTINCT substr(value, i, 2) FROM generate_series(1, char_length(value) - 1) AS i
        WHERE substr(value, i, 2) ~ '^{CJK}{{2}}$'
    ) ELSE '{{}}'::text[] END
$$
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    schema_editor.execute(
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "customer_name_cjk_pairs" ON "customers_customer" '
        'USING gin (pc_cjk_bigrams("name"))'
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute('DROP INDEX CONCURRENTLY IF EXISTS "customer_name_cjk_pairs"')
    schema_editor.execute("DROP FUNCTION IF EXISTS pc_cjk_bigrams(text)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("customers", "0008_ledger_append_only"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(condition=models.Q(("frozen", True)), fields=["id"], name="customer_frozen"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(condition=models.Q(("arrears__gt", 0)), fields=["id"], name="customer_in_arrears"),
        ),
    ]
