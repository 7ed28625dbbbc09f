"""Least-privilege PostgreSQL roles (issue 15): the portal connects as an application role that
owns nothing, while migrations run as the tables' owner.

The application role may read and write the ordinary tables and use their sequences. On the
append-only tables (operation records, ledger entries) it may only INSERT and SELECT, plus
UPDATE of the actor column alone, which is what Django does when a user is deleted (the
actor's foreign key becomes NULL; the triggers of audit 0003 and customers 0005 let exactly that
through). It may not TRUNCATE, disable a trigger (only the owner may ALTER a table) or
``SET session_replication_role`` (only a superuser may), so none of the ways around the
triggers is open to it. ``django_migrations`` is read-only to it: migrations are the owner's.

Run it as the owner (or a superuser) after every ``migrate``; it is idempotent::

    DATABASE_URL=postgres://owner@host/db python manage.py db_roles --app pc_app

``--owner`` (a superuser only) first gives every table, sequence and function of the schema to
that role. The application role's password, if it needs one, is read from the environment
variable named by ``--password-env``, never from the command line."""
import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

from audit.models import OperationRecord
from customers.models import LedgerEntry

# Tables the application may only append to, each with the one column it may clear.
APPEND_ONLY = [(OperationRecord, "actor"), (LedgerEntry, "actor")]
READ_ONLY = ["django_migrations"]
SCHEMA = "public"


def _run(cur, statement: sql.Composable) -> None:
    # Rendered here (identifiers and literals quoted by psycopg), so Django passes it through as is.
    cur.execute(statement.as_string(cur.cursor.connection))


def append_only_tables() -> list[tuple[str, str]]:
    """(table, actor column) of every append-only table."""
    return [(model._meta.db_table, model._meta.get_field(field).column) for model, field in APPEND_ONLY]


class Command(BaseCommand):
    help = "Create or update the PostgreSQL application role with least privilege (run as the owner)."

    def add_arguments(self, parser):
        parser.add_argument("--app", required=True, help="the role the portal connects as (created if missing)")
        parser.add_argument("--owner", help="give the schema's tables, sequences and functions to this role first")
        parser.add_argument("--password-env", help="environment variable holding the application role's password")

    def handle(self, *, app, owner, password_env, **options):
        if connection.vendor != "postgresql":
            raise CommandError("db_roles sets up PostgreSQL roles; DATABASE_URL names another database.")
        password = None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"The environment variable {password_env} is empty or unset.")
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT current_user, current_database()")
            me, database = cur.fetchone()
            owner = owner or me
            if app in (owner, me):
                raise CommandError("The application role must not be the owner nor the role running this command.")
            if owner != me:
                self._give_to_owner(cur, owner)
            self._create_app_role(cur, app, password)
            self._refuse_if_app_can_own(cur, app)
            self._grant(cur, app=app, owner=owner, database=database)
        self.stdout.write(
            f"Role {app} may use {database} with least privilege; {owner} owns the tables and runs migrations."
        )

    def _give_to_owner(self, cur, owner):
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cur.fetchone()[0]:
            raise CommandError("--owner other than yourself needs a superuser connection.")
        self._exists(cur, owner)
        role = sql.Identifier(owner)
        _run(cur, sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(SCHEMA), role))
        cur.execute(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S')",
            [SCHEMA],
        )
        kinds = {"S": "SEQUENCE", "v": "VIEW", "m": "MATERIALIZED VIEW"}
        for name, kind in cur.fetchall():
            if kind == "S" and self._owned_by_table(cur, name):
                continue  # an identity column's sequence follows its table
            _run(cur, sql.SQL("ALTER {} {} OWNER TO {}").format(
                sql.SQL(kinds.get(kind, "TABLE")), sql.Identifier(SCHEMA, name), role,
            ))
        cur.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = %s AND p.prokind = 'f' AND NOT EXISTS "
            "(SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')",
            [SCHEMA],
        )
        for (signature,) in cur.fetchall():
            _run(cur, sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(sql.SQL(signature), role))

    @staticmethod
    def _owned_by_table(cur, sequence) -> bool:
        cur.execute(
            "SELECT 1 FROM pg_depend d JOIN pg_class s ON s.oid = d.objid "
            "WHERE s.relname = %s AND d.deptype IN ('a', 'i')",
            [sequence],
        )
        return cur.fetchone() is not None

    @staticmethod
    def _exists(cur, role) -> None:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cur.fetchone() is None:
            raise CommandError(f"The role {role} does not exist.")

    @staticmethod
    def _create_app_role(cur, app, password):
        limits = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT")
        cur.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        may_manage_roles = cur.fetchone()[0]
        cur.execute(
            "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls "
            "FROM pg_roles WHERE rolname = %s",
            [app],
        )
        existing = cur.fetchone()
        if not may_manage_roles:
            # An owner without CREATEROLE: a superuser made the role; check it rather than alter it.
            if existing is None or password is not None:
                raise CommandError(
                    "Creating the application role or setting its password needs CREATEROLE: create it as a "
                    f"superuser first (createuser {app}) or run this command as one."
                )
            if existing[0]:
                raise CommandError(f"The application role {app} has SUPERUSER, CREATEROLE, CREATEDB, REPLICATION "
                                   "or BYPASSRLS; remove them as a superuser.")
            return
        verb = "ALTER" if existing else "CREATE"
        statement = sql.SQL("{} ROLE {} {}").format(sql.SQL(verb), sql.Identifier(app), limits)
        if password is not None:
            statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
        _run(cur, statement)

    @staticmethod
    def _refuse_if_app_can_own(cur, app):
        """An application role that owns an object, or is a member of a role that does, could
        alter or drop it: refuse rather than grant around it."""
        cur.execute(
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = %s)",
            [app],
        )
        if memberships := [name for (name,) in cur.fetchall()]:
            raise CommandError(f"The application role {app} is a member of {', '.join(memberships)}; revoke that.")
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = %s) "
            "UNION SELECT nspname FROM pg_namespace WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = %s) "
            "UNION SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = %s)",
            [app, app, app],
        )
        if owned := sorted(name for (name,) in cur.fetchall()):
            raise CommandError(f"The application role {app} owns {', '.join(owned)}; give them to the owner.")

    @staticmethod
    def _grant(cur, *, app, owner, database):
        role, schema = sql.Identifier(app), sql.Identifier(SCHEMA)
        run = [
            sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(sql.Identifier(database), role),
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role),
            # Nobody but the owner creates objects in the schema (PostgreSQL 15's default too).
            sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(schema),
            sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(schema, role),
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role),
            sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema, role),
            sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema, role),
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(schema, role),
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, role),
            # Tables a later migration adds work before this command runs again; an append-only
            # one is held by its trigger until then.
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
            ).format(sql.Identifier(owner), schema, role),
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}").format(
                sql.Identifier(owner), schema, role
            ),
        ]
        for table, actor in append_only_tables():
            run += [
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(sql.Identifier(table), role),
                sql.SQL("GRANT UPDATE ({}) ON {} TO {}").format(sql.Identifier(actor), sql.Identifier(table), role),
            ]
        for table in READ_ONLY:
            run.append(sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(table), role))
        for statement in run:
            _run(cur, statement)
