"""Organization reads scoped to the acting member: another partner's member or role is a 404."""
from django.contrib.auth.models import Permission
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from organization.models import Role, User

MANAGER_ROLES = (Role.Builtin.CUSTOMER_MANAGER, Role.Builtin.CUSTOMER_MANAGER_SUPERVISOR)


def members_of(user) -> QuerySet[User]:
    return User.objects.filter(partner_id=user.partner_id, kind=User.Kind.MEMBER)


def member_for(user, pk) -> User:
    return get_object_or_404(members_of(user).select_related("supervisor", "partner"), pk=pk)


def roles_for(user) -> QuerySet[Role]:
    """The built-in roles and the member's partner's custom roles."""
    return Role.objects.filter(Q(partner__isnull=True) | Q(partner_id=user.partner_id))


def role_for(user, pk) -> Role:
    return get_object_or_404(roles_for(user), pk=pk)


def with_permissions(roles: QuerySet[Role]) -> QuerySet[Role]:
    """``roles`` with their permissions and each permission's content type read in one
    statement (``prefetch_related("permissions__content_type")`` spends a second one on the
    content types)."""
    return roles.prefetch_related(Prefetch("permissions", queryset=Permission.objects.select_related("content_type")))


def roles_with_member_counts(user) -> QuerySet[Role]:
    """Roles in the order the Roles page shows them (built-in first), each with how many of
    the partner's members hold it, and their permissions (:func:`with_permissions`)."""
    return with_permissions(
        roles_for(user).annotate(member_count=Count("members", filter=Q(members__partner_id=user.partner_id)))
    ).order_by("partner_id", "name")


def supervisors_for(partner_id) -> QuerySet[User]:
    """Active members who may supervise customer managers."""
    return User.objects.filter(
        partner_id=partner_id,
        kind=User.Kind.MEMBER,
        is_active=True,
        roles__builtin=Role.Builtin.CUSTOMER_MANAGER_SUPERVISOR,
    ).order_by("display_name", "member_name")


def assignable_managers(partner_id) -> QuerySet[User]:
    """Active members to whom customers may be assigned (R16): holders of a manager role."""
    return (
        User.objects.filter(
            partner_id=partner_id, kind=User.Kind.MEMBER, is_active=True, roles__builtin__in=MANAGER_ROLES
        )
        .distinct()
        .order_by("display_name", "member_name", "pk")
    )
