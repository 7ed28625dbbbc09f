"""Authentication and permissions.

Passwords are checked by Django's ModelBackend on the unique ``username``. Members' permissions
come only from their roles; operators keep Django's usual groups and user permissions for the
admin; customer users have no portal permissions at all."""
from functools import cache

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connections, router

from organization.models import Partner, Role, User


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


@cache
def _signed_in_sql(alias: str) -> str:
    """The statement behind :func:`signed_in_user`: every column of the user and of their
    partner, the ORM's ``User.objects.select_related("partner").filter(pk=…)`` written once per
    database. It runs on every request of a signed-in user, where the ORM spent twice as long
    composing the query and making the objects as the database spent answering it (issue 9)."""
    q = connections[alias].ops.quote_name
    member, partner = User._meta, Partner._meta
    columns = [f"u.{q(f.column)}" for f in member.concrete_fields]
    columns += [f"p.{q(f.column)}" for f in partner.concrete_fields]
    partner_id = q(member.get_field("partner").column)
    return (
        f"SELECT {', '.join(columns)} FROM {q(member.db_table)} u "  # noqa: S608
        f"LEFT OUTER JOIN {q(partner.db_table)} p ON p.{q(partner.pk.column)} = u.{partner_id} "
        f"WHERE u.{q(member.pk.column)} = %s"
    )


def _from_row(model, connection, values):
    """An instance of ``model`` from its concrete columns as the database sent them, converted
    as the ORM converts them (SQLite sends booleans, decimals and datetimes as it stores them)."""
    fields = model._meta.concrete_fields
    converted = []
    for field, value in zip(fields, values, strict=True):
        if value is not None:
            col = field.get_col(model._meta.db_table)
            for convert in connection.ops.get_db_converters(col) + col.get_db_converters(connection):
                value = convert(value, col, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def signed_in_user(user_id) -> User | None:
    """The user with this id and their partner (None for a user without one), in one
    statement; None when there is no such user."""
    alias = router.db_for_read(User)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(_signed_in_sql(alias), [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(User._meta.concrete_fields)
    user = _from_row(User, connection, row[:split])
    partner = _from_row(Partner, connection, row[split:]) if user.partner_id is not None else None
    User._meta.get_field("partner").set_cached_value(user, partner)
    return user


class RolePermissionBackend(ModelBackend):
    def get_user(self, user_id):
        # The partner is on every portal page: fetch it with the user. Its distributor is shown
        # on the profile page only, which reads it there.
        try:
            user = signed_in_user(User._meta.pk.to_python(user_id))
        except ValidationError:
            return None
        return user if user is not None and self.user_can_authenticate(user) else None

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
