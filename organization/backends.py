"""Authentication and permissions.

Passwords are checked by Django's ModelBackend on the unique ``username``. Members' permissions
come only from their roles; operators keep Django's usual groups and user permissions for the
admin; customer users have no portal permissions at all."""
from functools import cache

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router

from organization.models import Role, User


@cache
def _roles_sql(alias: str) -> str:
    """The statement behind :func:`load_roles`, written once per database: it runs on every
    portal request, where composing it through the ORM cost as much again as running it."""
    q = connections[alias].ops.quote_name
    user_roles, role_perms = User.roles.through._meta, Role.permissions.through._meta
    # Only quoted table and column names of the models go into the text; the user is a parameter.
    return (
        f"SELECT r.{q('id')}, r.{q('builtin')}, ct.{q('app_label')}, p.{q('codename')} "  # noqa: S608
        f"FROM {q(user_roles.db_table)} ur "
        f"INNER JOIN {q(Role._meta.db_table)} r ON r.{q('id')} = ur.{q(user_roles.get_field('role').column)} "
        f"LEFT OUTER JOIN {q(role_perms.db_table)} rp ON rp.{q(role_perms.get_field('role').column)} = r.{q('id')} "
        f"LEFT OUTER JOIN {q(Permission._meta.db_table)} p "
        f"ON p.{q('id')} = rp.{q(role_perms.get_field('permission').column)} "
        f"LEFT OUTER JOIN {q(ContentType._meta.db_table)} ct ON ct.{q('id')} = p.{q('content_type_id')} "
        f"WHERE ur.{q(user_roles.get_field('user').column)} = %s"
    )


def load_roles(user) -> None:
    """One query for the member's roles and their permissions, cached on the user object
    for the request: ``_role_keys`` (built-in keys, "" for custom roles) and
    ``_role_perm_cache`` ("app_label.codename")."""
    if hasattr(user, "_role_perm_cache"):
        return
    alias = router.db_for_read(Role)
    with connections[alias].cursor() as cursor:
        cursor.execute(_roles_sql(alias), [user.pk])
        rows = cursor.fetchall()
    keys, perms = {}, set()
    for pk, builtin, app_label, codename in rows:
        keys[pk] = builtin
        if codename:
            perms.add(f"{app_label}.{codename}")
    user._role_keys = list(keys.values())
    user._role_perm_cache = perms


def role_keys(user) -> list[str]:
    load_roles(user)
    return user._role_keys


class RolePermissionBackend(ModelBackend):
    def get_user(self, user_id):
        # The partner is on every portal page: fetch it with the user. Its distributor is shown
        # on the profile page only, which reads it there.
        try:
            user = User._default_manager.select_related("partner").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_user_permissions(self, user_obj, obj=None):
        if getattr(user_obj, "kind", None) == User.Kind.OPERATOR:
            return super().get_user_permissions(user_obj, obj)
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        if getattr(user_obj, "kind", None) == User.Kind.OPERATOR:
            return super().get_group_permissions(user_obj, obj)
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        kind = getattr(user_obj, "kind", None)
        if kind == User.Kind.OPERATOR:
            return super().get_all_permissions(user_obj, obj)
        if kind == User.Kind.MEMBER and user_obj.partner_id:
            load_roles(user_obj)
            return user_obj._role_perm_cache
        return set()
