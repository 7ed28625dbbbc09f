"""On PostgreSQL the database itself refuses UPDATE and DELETE on operation records (SPEC R25),
so neither raw SQL nor a model manager that skips the append-only queryset can change the log.

The one update let through is the one Django makes when a user is deleted: the actor's foreign
key becomes NULL and nothing else changes (the actor's name stays in the record, R24).
TRUNCATE is a statement, not a row change, and stays possible: the test suite's flush uses it;
production keeps it from the application's database role with privileges instead."""
from django.db import migrations

FUNCTION = "audit_operationrecord_append_only"
TRIGGER = "audit_operationrecord_append_only"


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("audit", "OperationRecord")._meta.db_table)
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
               AND to_jsonb(NEW) - 'actor_id' = to_jsonb(OLD) - 'actor_id' THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'operation records are append-only: % refused on record %', TG_OP, OLD.id
                USING ERRCODE = 'restrict_violation',
                      HINT = 'Record what happened in a new operation record instead.';
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
    table = schema_editor.quote_name(apps.get_model("audit", "OperationRecord")._meta.db_table)
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_initial"),
    ]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
