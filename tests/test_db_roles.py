"""The log and the ledger hold against the database's own users (issue 15, item 9).

``manage.py db_roles`` sets up the role the portal connects as: it owns nothing and may only
append to operation records and ledger entries. Connected as that role, nothing changes,
removes or empties them, nor gets around the triggers; the portal's own work goes on."""
import uuid
from contextlib import contextmanager
from decimal import Decimal

import psycopg
import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction
from django.urls import reverse

from audit.models import AppendOnlyError, OperationRecord
from customers.funds import services as funds
from customers.models import Association, Customer, LedgerEntry
from organization.models import Partner, User
from partnercenter import factories as f

TABLES = ["audit_operationrecord", "customers_ledgerentry"]
INSUFFICIENT_PRIVILEGE, RESTRICT_VIOLATION = "42501", "23001"


# The ledger's own guard, on every database ------------------------------------------------------


@pytest.fixture
def entry(partner, customer, admin_member):
    funds.partner_top_up(actor=admin_member, partner=partner, amount=Decimal("10.00"))
    return funds.funds_allocate(
        actor=admin_member, association=Association.objects.get(customer=customer), amount=Decimal("4.00")
    )


def test_the_ledger_refuses_updates_and_deletes(entry):
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1.00"))
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.update_or_create(pk=entry.pk, defaults={"amount": Decimal("1.00")})
    entry.amount = Decimal("1.00")
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("4.00")


@pytest.mark.parametrize("column", ["partner_balance_after", "customer_balance_after"])
def test_a_ledger_balance_after_is_never_negative(partner, customer, column):
    values = {"partner_balance_after": Decimal("0.00"), "customer_balance_after": Decimal("0.00"), column: "-0.01"}
    with pytest.raises(IntegrityError, match="balance_after_not_negative"), transaction.atomic():
        LedgerEntry.objects.create(partner=partner, customer=customer, kind="allocation", amount="1.00", **values)


def test_the_funds_services_write_the_balances_that_the_check_guards(entry, partner, customer):
    partner.refresh_from_db()
    customer.refresh_from_db()
    assert (entry.partner_balance_after, entry.customer_balance_after) == (partner.balance, customer.allocated_balance)


@pytest.mark.postgres
class TestPostgresRefusesLedgerChanges:
    @pytest.mark.parametrize("sql", [
        "UPDATE customers_ledgerentry SET amount = 1 WHERE id = %s",
        "DELETE FROM customers_ledgerentry WHERE id = %s",
    ])
    def test_raw_sql_even_as_the_owner(self, entry, sql):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [entry.pk])
        assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("4.00")

    def test_deleting_a_user_keeps_their_ledger_entries_and_name(self, partner, customer):
        leaver = f.OperatorFactory(username="leaver", display_name="Lee Leaver")
        funds.partner_top_up(actor=leaver, partner=partner, amount=Decimal("3.00"))
        leaver.delete()
        kept = LedgerEntry.objects.get(partner=partner)
        assert (kept.actor_id, kept.actor_name, kept.amount) == (None, "Lee Leaver", Decimal("3.00"))


# The application role --------------------------------------------------------------------------


def _dsn(user: str) -> str:
    settings = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=settings["NAME"], user=user, host=settings["HOST"], port=settings["PORT"] or 5432,
    )


@pytest.fixture
def app_role(transactional_db):
    """The application role of this test database, made by the command and dropped after."""
    name = f"{connection.settings_dict['NAME']}_app"[:63]
    call_command("db_roles", app=name)
    yield name
    with psycopg.connect(_dsn(connection.settings_dict["USER"]), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP OWNED BY {0}; DROP ROLE {0}").format(psycopg.sql.Identifier(name)))


@pytest.fixture
def world(app_role):
    partner = f.PartnerFactory(account_name="acme", name="Acme Cloud", balance=Decimal("100.00"))
    admin = f.MemberFactory(partner=partner, member_name="admin", is_partner_admin=True, roles=["system_admin"])
    customer = f.CustomerWithUserFactory(account_name="cust-one", name="Customer One")
    association = f.AssociationFactory(partner=partner, customer=customer, type=Association.Type.RESELLER)
    funds.funds_allocate(actor=admin, association=association, amount=Decimal("5.00"))
    return {"partner": partner, "admin": admin, "customer": customer, "record": OperationRecord.objects.first(),
            "entry": LedgerEntry.objects.get()}


def refused(app_role, statement, params=()) -> str | None:
    """The SQLSTATE with which the database refuses ``statement`` from the application role."""
    with psycopg.connect(_dsn(app_role), autocommit=True) as conn:
        try:
            conn.execute(statement, params)
        except psycopg.Error as error:
            return error.sqlstate
    return None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestTheApplicationRole:
    def test_it_is_no_superuser_and_owns_nothing(self, app_role):
        with connection.cursor() as cur:
            cur.execute("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = %s",
                        [app_role])
            assert cur.fetchone() == (False, False, False, False)
            cur.execute("SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)",
                        [app_role])
            assert cur.fetchone() == (0,)

    @pytest.mark.parametrize("table", TABLES)
    @pytest.mark.parametrize("statement", [
        "UPDATE {table} SET created_at = created_at WHERE id = %s",
        "DELETE FROM {table} WHERE id = %s",
        "TRUNCATE {table}",
        "TRUNCATE {table} CASCADE",
        "ALTER TABLE {table} DISABLE TRIGGER ALL",
        "ALTER TABLE {table} DISABLE TRIGGER USER",
        "DROP TRIGGER {table}_append_only ON {table}",
    ])
    def test_it_cannot_change_remove_or_empty_records_and_ledger_entries(self, world, app_role, table, statement):
        row = world["record"] if table == "audit_operationrecord" else world["entry"]
        sql = statement.format(table=table)
        assert refused(app_role, sql, [row.pk] if "%s" in sql else ()) == INSUFFICIENT_PRIVILEGE
        assert type(row).objects.filter(pk=row.pk, created_at=row.created_at).exists()

    @pytest.mark.parametrize("table", TABLES)
    def test_the_actor_column_it_may_clear_is_still_held_by_the_trigger(self, world, app_role, table):
        row = world["record"] if table == "audit_operationrecord" else world["entry"]
        other = f.OperatorFactory(username="someone-else")
        assert refused(app_role, f"UPDATE {table} SET actor_id = %s WHERE id = %s", [other.pk, row.pk]) == (
            RESTRICT_VIOLATION
        )
        assert type(row).objects.get(pk=row.pk).actor_id == world["admin"].pk

    @pytest.mark.parametrize("statement", [
        "SET session_replication_role = replica",
        "SET LOCAL session_replication_role = replica",
        "ALTER ROLE CURRENT_USER SET session_replication_role = replica",
        "CREATE TABLE squatter (id int)",
    ])
    def test_it_cannot_get_around_the_triggers(self, app_role, statement):
        assert refused(app_role, statement) == INSUFFICIENT_PRIVILEGE

    def test_it_may_insert_and_read_records_and_ledger_entries(self, world, app_role):
        with psycopg.connect(_dsn(app_role), autocommit=True) as conn:
            conn.execute(
                "INSERT INTO audit_operationrecord (created_at, category, event, actor_kind, actor_name, request_id,"
                " reason, before, after) VALUES (now(), 'funds', 'funds.allocated', 'system', 'system', '', 'x',"
                " '{}', '{}')"
            )
            conn.execute(
                "INSERT INTO customers_ledgerentry (partner_id, kind, amount, actor_name, partner_balance_after,"
                " created_at) VALUES (%s, 'top_up', 1, 'system', 96, now())", [world["partner"].pk],
            )
            assert conn.execute("SELECT count(*) FROM audit_operationrecord WHERE reason = 'x'").fetchone() == (1,)
            assert conn.execute("SELECT count(*) FROM customers_ledgerentry").fetchone() == (2,)

    def test_the_portal_works_connected_as_it(self, world, app_role, client):
        partner, customer, admin = world["partner"], world["customer"], world["admin"]
        with connected_as(app_role):
            response = client.post(reverse("login"), {
                "partner_account": "acme", "member_name": "admin", "password": f.DEFAULT_PASSWORD,
            })
            assert response.status_code == 302
            assert client.get(reverse("customers:list")).status_code == 200
            for name, amount in [("customers:funds_allocate_submit", "2.00"), ("customers:funds_recover_submit", "1")]:
                url = reverse(name, kwargs={"pk": customer.pk})
                body = {"amount": amount, "token": uuid.uuid4().hex, "reason": "as app"}
                assert client.post(url, body).status_code == 302
            assert client.get(reverse("audit:list")).status_code == 200
            # Deleting a user clears the actor of their records and ledger entries.
            admin.delete()
            with connections["default"].cursor() as cur:
                cur.execute("SELECT current_user")
                assert cur.fetchone() == (app_role,)
        assert Partner.objects.get(pk=partner.pk).balance == Decimal("94.00")
        assert Customer.objects.get(pk=customer.pk).allocated_balance == Decimal("6.00")
        assert not User.objects.filter(pk=admin.pk).exists()
        assert LedgerEntry.objects.count() == 3 and not LedgerEntry.objects.filter(actor__isnull=False).exists()
        assert OperationRecord.objects.filter(event__in=["funds.allocated", "funds.recovered"]).count() == 3
        assert not OperationRecord.objects.filter(actor__isnull=False).exists()

    def test_running_the_command_again_changes_nothing(self, app_role):
        call_command("db_roles", app=app_role)
        assert refused(app_role, "TRUNCATE audit_operationrecord") == INSUFFICIENT_PRIVILEGE
        assert refused(app_role, "SELECT count(*) FROM customers_ledgerentry") is None


@contextmanager
def connected_as(role):
    """Django's default connection, for the block, logged in as ``role`` instead of the owner."""
    original = connections["default"]
    app = connections.create_connection("default")
    app.settings_dict = {**original.settings_dict, "USER": role, "PASSWORD": ""}
    connections["default"] = app
    try:
        yield app
    finally:
        app.close()
        connections["default"] = original


@pytest.fixture
def owner_role(transactional_db, app_role):
    """A non-superuser owner, given the tables by a superuser's ``db_roles --owner``; after the
    test the tables go back to the superuser the suite runs as."""
    name = f"{connection.settings_dict['NAME']}_owner"[:63]
    superuser = connection.settings_dict["USER"]
    identifier = psycopg.sql.Identifier(name)
    with psycopg.connect(_dsn(superuser), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN").format(identifier))
    call_command("db_roles", app=app_role, owner=name)
    yield name
    connection.close()
    with psycopg.connect(_dsn(superuser), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("REASSIGN OWNED BY {0} TO {1}; DROP OWNED BY {0}; DROP ROLE {0}").format(
            identifier, psycopg.sql.Identifier(superuser)
        ))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_owner_that_is_no_superuser_runs_migrations_and_the_command(owner_role, app_role):
    with connection.cursor() as cur:
        cur.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
        assert cur.fetchall() == [(owner_role,)]
    with connected_as(owner_role):
        call_command("migrate", check_unapplied=True, verbosity=0)
        call_command("db_roles", app=app_role)
    assert refused(app_role, "ALTER TABLE customers_ledgerentry DISABLE TRIGGER ALL") == INSUFFICIENT_PRIVILEGE
    assert refused(app_role, "INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'y', now())") == (
        INSUFFICIENT_PRIVILEGE
    )
    assert refused(app_role, "SELECT count(*) FROM django_migrations") is None
