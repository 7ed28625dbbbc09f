"""The ledger holds like the operation log (issue 15): its balances after each movement are
never negative (CHECK constraints, on every database), and on PostgreSQL a trigger refuses
UPDATE and DELETE on ledger entries whoever asks, as audit migration 0003 does for records.

The one update let through is the one Django makes when a user is deleted: the actor's foreign
key becomes NULL and nothing else changes (the actor's name stays in the entry). TRUNCATE, and
disabling the trigger, stay with the tables' owner: the application's database role may do
neither (``manage.py db_roles``)."""
from django.conf import settings
from django.db import migrations, models

FUNCTION = "customers_ledgerentry_append_only"
TRIGGER = "customers_ledgerentry_append_only"


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("customers", "LedgerEntry")._meta.db_table)
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
               AND to_jsonb(NEW) - 'actor_id' = to_jsonb(OLD) - 'actor_id' THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'ledger entries are append-only: % refused on entry %', TG_OP, OLD.id
                USING ERRCODE = 'restrict_violation',
                      HINT = 'Correct a movement with a new ledger entry instead.';
        END;
        $$
        """,
        params=None,  # the body's % are PL/pgSQL placeholders, not query parameters
    )
    schema_editor.execute(
        f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("customers", "LedgerEntry")._meta.db_table)
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_association_started_at_index"),
        ("organization", "0002_builtin_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("partner_balance_after__gte", 0)),
                name="ledger_partner_balance_after_not_negative",
                violation_error_message="The partner balance cannot go below zero.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("customer_balance_after__isnull", True), ("customer_balance_after__gte", 0), _connector="OR"
                ),
                name="ledger_customer_balance_after_not_negative",
                violation_error_message="The allocated balance cannot go below zero.",
            ),
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
