"""The System Administrator role holds every portal permission: add *manage webhooks*."""
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    app_config = apps.get_app_config("webhooks")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    Role = apps.get_model("organization", "Role")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.get(content_type__app_label="webhooks", codename="manage_webhooks")
    for role in Role.objects.filter(builtin="system_admin"):
        role.permissions.add(perm)


def revoke(apps, schema_editor):
    Role = apps.get_model("organization", "Role")
    Permission = apps.get_model("auth", "Permission")
    for perm in Permission.objects.filter(content_type__app_label="webhooks", codename="manage_webhooks"):
        for role in Role.objects.filter(builtin="system_admin"):
            role.permissions.remove(perm)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_endpoints_and_deliveries"),
        ("organization", "0002_builtin_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
