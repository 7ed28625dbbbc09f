"""The customer's ``frozen`` on its associations, kept by the database (issue 17).

The customer list's frozen filter walked the partner's associations newest first and checked
each one's customer against the frozen customers' index: at the bench's scale about 5,000
probes for the 51 rows of page one (5.7 ms), more on every later page. With the flag on the
association and a partial index of the partner's active associations of frozen customers in
the list's order, the page reads exactly its rows.

Triggers keep the column: a new association takes its customer's flag, and a change of a
customer's ``frozen`` is copied to all of its associations. Django never writes the column on
an update (``Association.save``), so a row read before a freeze cannot write the old value
back. PostgreSQL and SQLite each get their own triggers; the backfill copies today's flags.
"""
from django.db import migrations, models

PG_FORWARD = [
    """
CREATE OR REPLACE FUNCTION pc_association_take_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.customer_frozen := COALESCE((SELECT c.frozen FROM customers_customer c WHERE c.id = NEW.customer_id), FALSE);
    RETURN NEW;
END
$$
""",
    """
CREATE TRIGGER pc_association_frozen_insert BEFORE INSERT OR UPDATE OF customer_id ON customers_association
FOR EACH ROW EXECUTE FUNCTION pc_association_take_frozen()
""",
    """
CREATE OR REPLACE FUNCTION pc_customer_frozen_copy() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customers_association SET customer_frozen = NEW.frozen
    WHERE customer_id = NEW.id AND customer_frozen IS DISTINCT FROM NEW.frozen;
    RETURN NULL;
END
$$
""",
    """
CREATE TRIGGER pc_customer_frozen_update AFTER UPDATE OF frozen ON customers_customer
FOR EACH ROW WHEN (OLD.frozen IS DISTINCT FROM NEW.frozen)
EXECUTE FUNCTION pc_customer_frozen_copy()
""",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS pc_customer_frozen_update ON customers_customer",
    "DROP TRIGGER IF EXISTS pc_association_frozen_insert ON customers_association",
    "DROP FUNCTION IF EXISTS pc_customer_frozen_copy()",
    "DROP FUNCTION IF EXISTS pc_association_take_frozen()",
]

_SQLITE_TAKE = """UPDATE customers_association SET customer_frozen = COALESCE(
        (SELECT c.frozen FROM customers_customer c WHERE c.id = NEW.customer_id), 0) WHERE id = NEW.id;"""
SQLITE_FORWARD = [
    f"""CREATE TRIGGER pc_association_frozen_insert AFTER INSERT ON customers_association
BEGIN {_SQLITE_TAKE} END""",
    f"""CREATE TRIGGER pc_association_frozen_customer AFTER UPDATE OF customer_id ON customers_association
BEGIN {_SQLITE_TAKE} END""",
    """CREATE TRIGGER pc_customer_frozen_update AFTER UPDATE OF frozen ON customers_customer
WHEN OLD.frozen IS NOT NEW.frozen
BEGIN UPDATE customers_association SET customer_frozen = NEW.frozen WHERE customer_id = NEW.id; END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS pc_customer_frozen_update",
    "DROP TRIGGER IF EXISTS pc_association_frozen_customer",
    "DROP TRIGGER IF EXISTS pc_association_frozen_insert",
]

BACKFILL = """UPDATE customers_association SET customer_frozen = TRUE WHERE customer_id IN (
    SELECT id FROM customers_customer WHERE frozen)"""


def add_column(apps, schema_editor):
    """The column, as ``AddField`` with its ``db_default`` would write it on PostgreSQL. SQLite's
    schema editor would rebuild the table to add it, which the triggers of 0010 (on the
    requests' table, naming this one) refuse mid-rebuild; a plain ``ADD COLUMN`` with a constant
    default needs no rebuild."""
    kind = "bool" if schema_editor.connection.vendor == "sqlite" else "boolean"
    schema_editor.execute(f"ALTER TABLE customers_association ADD COLUMN customer_frozen {kind} DEFAULT false NOT NULL")


def drop_column(apps, schema_editor):
    schema_editor.execute("ALTER TABLE customers_association DROP COLUMN customer_frozen")


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"customers 0016 has no triggers for {vendor}")
    for sql in statements:
        schema_editor.execute(sql)
    schema_editor.execute(BACKFILL)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0015_search_statistics_target"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="association",
                    name="customer_frozen",
                    field=models.BooleanField(db_default=False, default=False, editable=False),
                ),
            ],
            database_operations=[migrations.RunPython(add_column, drop_column, elidable=False)],
        ),
        migrations.RunPython(forward, backward, elidable=False),
        migrations.AddIndex(
            model_name="association",
            index=models.Index(
                condition=models.Q(("customer_frozen", True), ("status", "active")),
                fields=["partner", "-started_at", "-id"],
                name="assoc_partner_frozen_started",
            ),
        ),
    ]
