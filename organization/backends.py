"""Authentication and permissions.

Passwords are checked by Django's ModelBackend on the unique ``username``. Members' permissions
come only from their roles; operators keep Django's usual groups and user permissions for the
admin; customer users have no portal permissions at all."""
from functools import cache

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from organization.models import Partner, Role, User
from partnercenter.statements import Names, columns, instances, read

# A role that grants this is customer-facing: it decides which customers its holder sees.
CUSTOMER_FACING_PERMISSION = "customers.view_customer"


@cache
def _roles_sql(alias: str) -> str:
    """The statement behind :func:`load_roles`, written once per database. It runs on every
    portal request; ``Role.objects.filter(members=user).values_list(…)`` answers the same, and
    ``tests/test_hand_written_statements.py`` holds the two together."""
    n = Names(alias)
    user_roles, role_perms = User.roles.through, Role.permissions.through
    return (
        f"SELECT r.{n.column(Role, 'id')}, r.{n.column(Role, 'builtin')}, "  # noqa: S608
        f"ct.{n.column(ContentType, 'app_label')}, p.{n.column(Permission, 'codename')} "
        f"FROM {n.table(user_roles)} ur "
        f"INNER JOIN {n.table(Role)} r ON r.{n.column(Role, 'id')} = ur.{n.column(user_roles, 'role')} "
        f"LEFT OUTER JOIN {n.table(role_perms)} rp ON rp.{n.column(role_perms, 'role')} = r.{n.column(Role, 'id')} "
        f"LEFT OUTER JOIN {n.table(Permission)} p "
        f"ON p.{n.column(Permission, 'id')} = rp.{n.column(role_perms, 'permission')} "
        f"LEFT OUTER JOIN {n.table(ContentType)} ct "
        f"ON ct.{n.column(ContentType, 'id')} = p.{n.column(Permission, 'content_type')} "
        f"WHERE ur.{n.column(user_roles, 'user')} = %s"
    )


def load_roles(user) -> None:
    """One query for the member's roles and their permissions, cached on the user object
    for the request: ``_role_keys`` (built-in keys, "" for custom roles),
    ``_customer_role_keys`` (the same for the roles that let the member see customers, which
    decide the customer manager scope of R16) and ``_role_perm_cache`` ("app_label.codename")."""
    if hasattr(user, "_role_perm_cache"):
        return
    _connection, rows = read(Role, _roles_sql, [user.pk])
    keys, customer_facing, perms = {}, {}, set()
    for pk, builtin, app_label, codename in rows:
        keys[pk] = builtin
        if codename:
            perm = f"{app_label}.{codename}"
            perms.add(perm)
            if perm == CUSTOMER_FACING_PERMISSION:
                customer_facing[pk] = builtin
    user._role_keys = list(keys.values())
    user._customer_role_keys = list(customer_facing.values())
    user._role_perm_cache = perms


def role_keys(user) -> list[str]:
    load_roles(user)
    return user._role_keys



def customer_role_keys(user) -> list[str]:
    """The keys of the member's customer-facing roles: those granting
    ``customers.view_customer`` ("" for a custom one). A role that lets its holder use the API
    or manage members, say, says nothing about which customers they may see."""
    load_roles(user)
    return user._customer_role_keys

@cache
def _user_sql(alias: str) -> str:
    """The statement behind :func:`signed_in_user`, written once per database: what
    ``User.objects.select_related("partner").filter(pk=…).first()`` reads (its join, its
    columns, in its order), which ``tests/test_hand_written_statements.py`` holds it to."""
    n = Names(alias)
    return (
        f"SELECT {columns(n, [('u', User), ('p', Partner)])} FROM {n.table(User)} u "  # noqa: S608
        f"LEFT OUTER JOIN {n.table(Partner)} p ON p.{n.column(Partner, 'id')} = u.{n.column(User, 'partner')} "
        f"WHERE u.{n.column(User, 'id')} = %s"
    )


def signed_in_user(user_id) -> User | None:
    """The user with this id and their partner (None for a user without one), read together
    because the partner is on every portal page; None when there is no such user. Its
    distributor is shown on the profile page only, which reads it there. It runs on every
    portal request, as a hand-written prepared statement (rule 15; its cost against the ORM
    query in bench/README §20)."""
    connection, rows = read(User, _user_sql, [user_id])
    if not rows:
        return None
    (user, partner), _rest = instances(connection, (User, Partner), rows[0])
    User.partner.field.set_cached_value(user, partner)
    return user


class RolePermissionBackend(ModelBackend):
    def get_user(self, user_id):
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
