"""Built-in roles (SPEC R19) with their permissions.

Django creates permissions after migrations run, so this migration asks for them first."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

BUILTIN = {
    # key: (name, description)
    "system_admin": ("System Administrator", "All permissions; cannot be combined with another role."),
    "customer_manager": ("Customer Manager", "Sees and acts on the customers they manage."),
    "customer_manager_supervisor": ("Customer Manager Supervisor", "Also sees the customers of the managers they supervise."),
    "finance": ("Finance", "Allocates and recovers funds, issues vouchers."),
    "read_only": ("Read-only", "Views customers and records."),
}


APPS = ("customers", "audit", "organization")


def create_builtin_roles(apps, schema_editor):
    from organization.permissions import BUILTIN_ROLE_PERMISSIONS, split

    for label in APPS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    Role = apps.get_model("organization", "Role")
    Permission = apps.get_model("auth", "Permission")
    for key, (name, description) in BUILTIN.items():
        role, _ = Role.objects.update_or_create(builtin=key, defaults={"name": name, "description": description})
        perms = []
        for perm in BUILTIN_ROLE_PERMISSIONS[key]:
            app_label, codename = split(perm)
            if app_label not in APPS:
                continue  # a later app's permission: its own migration grants it (webhooks 0002)
            # A permission added later to one of these apps does not exist yet either: the
            # migration adding it grants it (customers 0012 for the reseller controls').
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                perms.append(permission)
        role.permissions.set(perms)


def remove_builtin_roles(apps, schema_editor):
    apps.get_model("organization", "Role").objects.exclude(builtin="").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("organization", "0001_initial"),
        ("customers", "0002_initial"),
        ("audit", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_builtin_roles, remove_builtin_roles)]
