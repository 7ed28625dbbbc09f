"""Whether an association has a pending request, kept by the database (issue 17).

The customer list's pending filter asked, for every open request of the vendor, whether its
association was one of the partner's (9,709 probes at the bench's scale for 51 rows, about
0.2–0.5 s). ``Association.has_pending_request`` with a partial index of the partner's active
associations that have one, in the list's order, lets the page walk exactly its rows; the filter
still checks that the request is open (its deadline not passed), so the column only narrows.

Triggers on the requests' table keep the column: after a request is inserted, deleted, or its
status or association changes, the association's column is set to whether any of its requests
is pending (written only when it changes). Django never writes the column on an update
(``Association.save``), so a stale row cannot write an old value back. PostgreSQL and SQLite
each get their own triggers; the backfill sets the column for the requests already pending.
"""
from django.db import migrations, models

PG_FORWARD = [
    """
CREATE OR REPLACE FUNCTION pc_sync_association_pending(bigint) RETURNS void
LANGUAGE sql AS $$
    UPDATE customers_association a SET has_pending_request = s.pending
    FROM (SELECT EXISTS (
        SELECT 1 FROM customers_associationrequest r WHERE r.association_id = $1 AND r.status = 'pending'
    ) AS pending) s
    WHERE a.id = $1 AND a.has_pending_request IS DISTINCT FROM s.pending
$$
""",
    """
CREATE OR REPLACE FUNCTION pc_association_pending_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pc_sync_association_pending(OLD.association_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.association_id IS DISTINCT FROM OLD.association_id
                                           OR NEW.status IS DISTINCT FROM OLD.status) THEN
        PERFORM pc_sync_association_pending(NEW.association_id);
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE TRIGGER pc_association_pending_insert_delete AFTER INSERT OR DELETE ON customers_associationrequest
FOR EACH ROW EXECUTE FUNCTION pc_association_pending_trigger()
""",
    """
CREATE TRIGGER pc_association_pending_update AFTER UPDATE OF status, association_id ON customers_associationrequest
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.association_id IS DISTINCT FROM NEW.association_id)
EXECUTE FUNCTION pc_association_pending_trigger()
""",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS pc_association_pending_update ON customers_associationrequest",
    "DROP TRIGGER IF EXISTS pc_association_pending_insert_delete ON customers_associationrequest",
    "DROP FUNCTION IF EXISTS pc_association_pending_trigger()",
    "DROP FUNCTION IF EXISTS pc_sync_association_pending(bigint)",
]

_SQLITE_SYNC = """UPDATE customers_association SET has_pending_request = EXISTS (
        SELECT 1 FROM customers_associationrequest r WHERE r.association_id = {row}.association_id AND r.status = 'pending'
    ) WHERE id = {row}.association_id;"""
SQLITE_FORWARD = [
    f"""CREATE TRIGGER pc_association_pending_insert AFTER INSERT ON customers_associationrequest
BEGIN {_SQLITE_SYNC.format(row="NEW")} END""",
    f"""CREATE TRIGGER pc_association_pending_delete AFTER DELETE ON customers_associationrequest
BEGIN {_SQLITE_SYNC.format(row="OLD")} END""",
    f"""CREATE TRIGGER pc_association_pending_update AFTER UPDATE OF status, association_id ON customers_associationrequest
BEGIN {_SQLITE_SYNC.format(row="OLD")} {_SQLITE_SYNC.format(row="NEW")} END""",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS pc_association_pending_{name}" for name in ("insert", "delete", "update")
]

BACKFILL = """UPDATE customers_association SET has_pending_request = TRUE WHERE id IN (
    SELECT association_id FROM customers_associationrequest WHERE status = 'pending')"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"customers 0010 has no triggers for {vendor}")
    for sql in statements:
        schema_editor.execute(sql)
    schema_editor.execute(BACKFILL)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_search_short_terms_and_fact_indexes"),
        ("organization", "0003_partner_currency_user_time_zone"),
    ]

    operations = [
        migrations.AddField(
            model_name="association",
            name="has_pending_request",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.RunPython(forward, backward, elidable=False),
        migrations.AddIndex(
            model_name="association",
            index=models.Index(
                condition=models.Q(("has_pending_request", True), ("status", "active")),
                fields=["partner", "-started_at", "-id"],
                name="assoc_partner_pending_started",
            ),
        ),
    ]
