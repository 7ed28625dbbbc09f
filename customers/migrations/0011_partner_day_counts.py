"""The partner home's charts read per-day counts (``PartnerDayCount``) kept by the database.

Triggers on associations, ledger entries and association requests move the counts of the day a
row belongs to in the statement's own transaction, whoever writes (a service, the admin, a
factory, bench SQL): on PostgreSQL one set-based statement per statement (transition tables),
on SQLite one per row. The counts already due for the rows present are filled in when the
migration runs. The series, by the row's UTC day:

- ``assoc.started``: associations by ``started_at``;
- ``assoc.ended``: ended associations by ``ended_at``;
- ``ledger.<kind>``: ledger entries by ``created_at``, with their amount in cents;
- ``request.<status>``: association requests by ``created_at``, of the association's partner.
"""
import django.db.models.deletion
from django.db import migrations, models


TABLE = "customers_partnerdaycount"
CUSTOMERS = "customers_customer"

# table: (model, partner expression, customer expression, joined table and its condition or None,
#         [(series expression, moment column, condition, cents expression)])
SOURCES = {
    "customers_association": ("Association", "r.partner_id", "r.customer_id", None, [
        ("'assoc.started'", "started_at", "r.started_at IS NOT NULL", "0"),
        ("'assoc.ended'", "ended_at", "r.status = 'ended' AND r.ended_at IS NOT NULL", "0"),
    ]),
    "customers_ledgerentry": ("LedgerEntry", "r.partner_id", "r.customer_id", None, [
        ("'ledger.' || r.kind", "created_at", "r.created_at IS NOT NULL", "ROUND(r.amount * 100)"),
    ]),
    "customers_associationrequest": (
        "AssociationRequest", "a.partner_id", "a.customer_id", ("customers_association a", "a.id = r.association_id"), [
            ("'request.' || r.status", "created_at", "r.created_at IS NOT NULL", "0"),
        ],
    ),
}
# The ledger is append-only (migration 0008): only inserts reach it.
EVENTS = {
    "customers_association": ["INSERT", "UPDATE", "DELETE"],
    "customers_ledgerentry": ["INSERT"],
    "customers_associationrequest": ["INSERT", "UPDATE", "DELETE"],
}
KEY = "partner_id, manager_id, series, day"


def _day(vendor, column):
    return f"(r.{column} AT TIME ZONE 'UTC')::date" if vendor == "postgresql" else f"date(r.{column})"


def _contributions(vendor, table, rows, sign, *, manager=None, customers=None):
    """SELECT partner_id, manager_id, series, day, tally, cents for every row of ``rows`` (a
    table, a transition table or a one-row subquery), each counted ``sign`` (1 or -1) times, under
    its customer's manager (0: none); or, with ``customers`` (a table of id, old_manager,
    new_manager), the rows of those customers under the ``manager`` column of it."""
    _model, partner, customer, join, series = SOURCES[table]
    source = f"FROM {rows} r" + (f" JOIN {join[0]} ON {join[1]}" if join else "")
    if customers is None:
        source += f" LEFT JOIN {CUSTOMERS} c ON c.id = {customer}"
        manager_id = "COALESCE(c.manager_id, 0)"
    else:
        source += f" JOIN {customers} ch ON ch.id = {customer}"
        manager_id = f"COALESCE(ch.{manager}, 0)"
    return " UNION ALL ".join(
        f"SELECT {partner} AS partner_id, {manager_id} AS manager_id, {name} AS series, "
        f"{_day(vendor, moment)} AS day, {sign} AS tally, {sign} * CAST({cents} AS BIGINT) AS cents "
        f"{source} WHERE {condition}"
        for name, moment, condition, cents in series
    )


def _summed(selects):
    total = "CAST(SUM({}) AS BIGINT)"
    return (
        f"SELECT {KEY}, {total.format('tally')} AS tally, {total.format('cents')} AS cents "
        f"FROM ({' UNION ALL '.join(selects)}) d WHERE partner_id IS NOT NULL "
        f"GROUP BY {KEY} HAVING SUM(tally) <> 0 OR SUM(cents) <> 0"
    )


def _upsert(selects):
    return (
        f"INSERT INTO {TABLE} ({KEY}, tally, cents) {_summed(selects)} "
        f"ON CONFLICT ({KEY}) DO UPDATE SET "
        f"tally = {TABLE}.tally + excluded.tally, cents = {TABLE}.cents + excluded.cents"
    )


def _add_to_existing(selects):
    """Add to counts that exist only: taking a row out of the counts it is in. On SQLite a
    test's flush empties the tables with DELETE in no set order; when the counts went first,
    nothing is written back."""
    return (
        f"UPDATE {TABLE} SET tally = {TABLE}.tally + d.tally, cents = {TABLE}.cents + d.cents "
        f"FROM ({_summed(selects)}) d WHERE {TABLE}.partner_id = d.partner_id AND "
        f"{TABLE}.manager_id = d.manager_id AND {TABLE}.series = d.series AND {TABLE}.day = d.day"
    )


def _row(apps, table, ref):
    """A SQLite row trigger's OLD or NEW row as a one-row table of the same columns."""
    model = apps.get_model("customers", SOURCES[table][0])
    return "(SELECT " + ", ".join(f"{ref}.{f.column} AS {f.column}" for f in model._meta.concrete_fields) + ")"


def _name(table, event=""):
    return f"{table}_daycount{'_' + event.lower() if event else ''}"


_CHANGED_MANAGERS = "(SELECT id, manager_id FROM new_rows EXCEPT SELECT id, manager_id FROM old_rows)"


def _moved_customers(vendor):
    """The customers whose manager a statement changed: their rows move between managers."""
    if vendor == "postgresql":
        # EXCEPT (hashed, linear; NULLs compare equal, as IS DISTINCT FROM) finds the changed
        # rows: a join of the two transition tables on id is planned as a nested loop, quadratic
        # in the rows of a bulk update (10,000 customers updated took 45 s).
        return (
            f"(SELECT n.id, o.manager_id AS old_manager, n.manager_id AS new_manager FROM {_CHANGED_MANAGERS} n "
            "JOIN old_rows o ON o.id = n.id)"
        )
    return (
        "(SELECT NEW.id AS id, OLD.manager_id AS old_manager, NEW.manager_id AS new_manager "
        "WHERE OLD.manager_id IS NOT NEW.manager_id)"
    )


def _move_statement(vendor):
    moved = _moved_customers(vendor)
    return _upsert([
        part
        for table in SOURCES
        for part in (
            _contributions(vendor, table, table, -1, manager="old_manager", customers=moved),
            _contributions(vendor, table, table, 1, manager="new_manager", customers=moved),
        )
    ])


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    for table, events in EVENTS.items():
        if vendor == "postgresql":
            branches = {
                "INSERT": [_contributions(vendor, table, "new_rows", 1)],
                "UPDATE": [_contributions(vendor, table, "old_rows", -1), _contributions(vendor, table, "new_rows", 1)],
                "DELETE": [_contributions(vendor, table, "old_rows", -1)],
            }
            body = "\n".join(f"IF TG_OP = '{event}' THEN {_upsert(branches[event])}; END IF;" for event in events)
            _pg_function(schema_editor, _name(table), body)
            for event in events:
                _pg_trigger(schema_editor, table, event)
        else:
            for event in events:
                if event == "DELETE":
                    statements = [_add_to_existing([_contributions(vendor, table, _row(apps, table, "OLD"), -1)])]
                else:
                    parts = [_contributions(vendor, table, _row(apps, table, "NEW"), 1)]
                    if event == "UPDATE":
                        parts.insert(0, _contributions(vendor, table, _row(apps, table, "OLD"), -1))
                    statements = [_upsert(parts)]
                schema_editor.execute(
                    f"CREATE TRIGGER {_name(table, event)} AFTER {event} ON {table} FOR EACH ROW BEGIN "
                    + "; ".join(statements) + "; END"
                )
        schema_editor.execute(_upsert([_contributions(vendor, table, table, 1)]))
    # A customer's rows are counted under its manager: a new manager takes them over.
    if vendor == "postgresql":
        # Most customer updates (balances, facts) change no manager: a cheap test first.
        changed = f"IF EXISTS {_CHANGED_MANAGERS} THEN "
        _pg_function(schema_editor, _name(CUSTOMERS), changed + _move_statement(vendor) + "; END IF;")
        _pg_trigger(schema_editor, CUSTOMERS, "UPDATE")
    else:
        schema_editor.execute(
            f"CREATE TRIGGER {_name(CUSTOMERS, 'UPDATE')} AFTER UPDATE OF manager_id ON {CUSTOMERS} "
            f"FOR EACH ROW WHEN OLD.manager_id IS NOT NEW.manager_id BEGIN {_move_statement(vendor)}; END"
        )


def _pg_function(schema_editor, name, body):
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nRETURN NULL;\nEND;\n$$",
        params=None,
    )


def _pg_trigger(schema_editor, table, event):
    referencing = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }[event]
    schema_editor.execute(
        f"CREATE TRIGGER {_name(table, event)} AFTER {event} ON {table} REFERENCING {referencing} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {_name(table)}()"
    )


def recount_statements(vendor="postgresql"):
    """The statements that count every row again: for a load that ran without triggers
    (``bench/generate.py`` loads with ``session_replication_role = replica``)."""
    return [f"DELETE FROM {TABLE}", *(_upsert([_contributions(vendor, table, table, 1)]) for table in SOURCES)]


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    for table, events in [*EVENTS.items(), (CUSTOMERS, ["UPDATE"])]:
        for event in events:
            suffix = f" ON {table}" if vendor == "postgresql" else ""
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {_name(table, event)}{suffix}")
        if vendor == "postgresql":
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {_name(table)}()")


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0010_association_has_pending_request'),
        ('organization', '0003_partner_currency_user_time_zone'),
    ]

    operations = [
        migrations.CreateModel(
            name='PartnerDayCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('manager_id', models.BigIntegerField(default=0)),
                ('series', models.CharField(max_length=40)),
                ('day', models.DateField()),
                ('tally', models.BigIntegerField(default=0)),
                ('cents', models.BigIntegerField(default=0)),
                ('partner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organization.partner')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('partner', 'series', 'day', 'manager_id'), name='daycount_partner_series_day')],
                'indexes': [models.Index(fields=['partner', 'series', 'day', 'manager_id', 'tally', 'cents'], name='daycount_read')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
