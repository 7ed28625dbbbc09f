"""Authentication and permissions.

Passwords are checked by Django's ModelBackend on the unique ``username``. Members' permissions
come only from their roles; operators keep Django's usual groups and user permissions for the
admin; customer users have no portal permissions at all."""
from django.contrib.auth.backends import ModelBackend

from organization.models import Role, User


def load_roles(user) -> None:
    """One query for the member's roles and their permissions, cached on the user object
    for the request: ``_role_keys`` (built-in keys, "" for custom roles) and
    ``_role_perm_cache`` ("app_label.codename")."""
    if hasattr(user, "_role_perm_cache"):
        return
    rows = Role.objects.filter(members=user).values_list(
        "pk", "builtin", "permissions__content_type__app_label", "permissions__codename"
    )
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
        # The partner is on every portal page: fetch it with the user.
        try:
            user = User._default_manager.select_related("partner__distributor").get(pk=user_id)
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
