"""Customers whose manager belongs to a partner other than the one they are associated with now
(or who are associated with nobody) lose that manager: before issue 15 an ended association
left it set, and the next partner saw the previous partner's member. Only the customers table
changes; the operation records stay as they were written."""
from django.db import migrations
from django.db.models import Exists, OuterRef


def clear_stale_managers(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Association = apps.get_model("customers", "Association")
    current_with_managers_partner = Association.objects.filter(
        customer_id=OuterRef("pk"), status="active", partner_id=OuterRef("manager__partner_id")
    )
    Customer.objects.filter(manager__isnull=False).exclude(Exists(current_with_managers_partner)).update(manager=None)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_home_indexes"),
        ("organization", "__first__"),
    ]

    operations = [migrations.RunPython(clear_stale_managers, migrations.RunPython.noop, elidable=True)]
