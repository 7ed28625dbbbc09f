"""A larger statistics sample for the search's expressions (``UPPER(name|email|account_name)``,
the trigram indexes and statistics of migration 0003), on PostgreSQL.

With the default target (100) a rare substring is estimated by whether one of ~100 histogram
bounds happens to contain it: ``sofia.zhao`` (235 customers of a million) was estimated at
10,606 after one ANALYZE and about 100 after another, and with the larger guess the planner
walked the distributor's 210,000 associations in list order looking for 51 matches (530 ms
instead of 19 ms, bench/README §19). A target of 1000 estimates such terms at about 100 rows
whatever the sample, so the trigram indexes are used; ANALYZE of the customers reads more rows
(18.6 s instead of ~2 s at a million customers, in the background). Elsewhere: nothing."""
from django.db import migrations

FIELDS = ("name", "email", "account_name")
TARGET = 1000


def _set(schema_editor, target):
    if schema_editor.connection.vendor != "postgresql":
        return
    for field in FIELDS:
        schema_editor.execute(f'ALTER INDEX "customer_{field}_upper_trgm" ALTER COLUMN 1 SET STATISTICS {target}')
        schema_editor.execute(f'ALTER STATISTICS "customer_{field}_upper_stats" SET STATISTICS {target}')


def raise_target(apps, schema_editor):
    _set(schema_editor, TARGET)


def default_target(apps, schema_editor):
    _set(schema_editor, -1)


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0014_invitation_email_index"),
    ]

    operations = [migrations.RunPython(raise_target, default_target, elidable=False)]
