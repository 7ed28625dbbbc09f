"""Organization actions (SPEC R16–R23). Each runs in one transaction, locks the partner row
before the rows it changes (so two changes to one organization queue instead of racing past
a limit), re-runs its rules under that lock and writes its operation record."""
import phonenumbers
from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.events import Event
from audit.services import jsonable, record
from customers.models import Association, Customer
from customers.selectors import active_associations_for
from organization.models import Partner, Role, User
from organization.permissions import ALL_PORTAL_PERMISSIONS, split
from organization.selectors import MANAGER_ROLES

EMAIL_TAKEN = _("This e-mail is already registered. Remove it from the other account first, or use another one.")
MOBILE_TAKEN = _("This mobile is already registered. Remove it from the other account first, or use another one.")
MEMBER_NAME_TAKEN = _("This member user name is taken in your organization.")


@transaction.atomic
def partner_create(*, actor, partner: Partner, admin_member_name: str, admin_email: str, admin_password: str) -> User:
    """Create a partner and its administrator account (System Administrator role)."""
    partner.save()
    admin_user = member_create(
        actor=actor,
        partner=partner,
        member_name=admin_member_name,
        email=admin_email,
        password=admin_password,
        display_name=partner.name,
        roles=[Role.objects.get(builtin=Role.Builtin.SYSTEM_ADMIN)],
        is_partner_admin=True,
    )
    record(
        event=Event.PARTNER_CREATED,
        actor=actor,
        partner=partner,
        after={"account_name": partner.account_name, "name": partner.name, "kind": partner.kind},
    )
    return admin_user


@transaction.atomic
def partner_update(*, actor, partner: Partner, changed: list[str]) -> Partner:
    before = Partner.objects.select_for_update().values(*changed).get(pk=partner.pk) if changed else {}
    # The balance and voucher quota move only through customers.funds; the admin form's copy
    # of them may be stale by now and must never be written back.
    kept = {"id", "balance", "voucher_quota"}
    partner.save(update_fields=[f.name for f in Partner._meta.concrete_fields if f.name not in kept])
    if changed:
        record(
            event=Event.PARTNER_UPDATED,
            actor=actor,
            partner=partner,
            before={k: jsonable(v) for k, v in before.items()},
            after={k: jsonable(getattr(partner, k if k != "distributor" else "distributor_id")) for k in changed},
        )
    return partner


# Contact details -----------------------------------------------------------------------


def normalise_email(value: str) -> str:
    """Trimmed, with the domain in lower case. Uniqueness ignores case altogether (the
    database's case-insensitive constraint), so "Ann@X.com " and "ann@x.com" collide."""
    return BaseUserManager.normalize_email((value or "").strip())


def normalise_mobile(value: str) -> str:
    """A mobile number in E.164 form, or "" for none (R18). The country code is required, not
    assumed: members working abroad register their own numbers."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("Enter the mobile in international form: + and the country code, for example +86 138 1234 5678."),
            code="mobile_format",
        )
    kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in kinds:
        raise ValidationError(
            _("This is not a valid mobile number. Check the country code and the digits."), code="mobile_invalid"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_contact_unique(*, email: str, mobile: str, exclude_pk: int | None) -> None:
    """E-mail and mobile are unique across every account: members, customers, operators (R17)."""
    others = User.objects.exclude(pk=exclude_pk) if exclude_pk else User.objects.all()
    errors = {}
    if email and others.filter(email__iexact=email).exists():
        errors["email"] = ValidationError(EMAIL_TAKEN, code="email_taken")
    if mobile and others.filter(mobile=mobile).exists():
        errors["mobile"] = ValidationError(MOBILE_TAKEN, code="mobile_taken")
    if errors:
        raise ValidationError(errors)


def _save_member(user: User) -> None:
    """Save, turning a uniqueness race lost to a concurrent transaction into the same message
    the check before it gives. The savepoint keeps the outer transaction usable."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        _check_contact_unique(email=user.email, mobile=user.mobile, exclude_pk=user.pk)
        if User.objects.filter(username=user.username).exclude(pk=user.pk).exists():
            raise ValidationError({"member_name": ValidationError(MEMBER_NAME_TAKEN, code="member_name_taken")})
        raise


# Roles and who may grant them ------------------------------------------------------------


def _perms_of_roles(roles) -> set[str]:
    rows = Permission.objects.filter(role__in=list(roles)).values_list("content_type__app_label", "codename")
    return {f"{app_label}.{codename}" for app_label, codename in rows}


def _actor_perms(actor) -> set[str] | None:
    """What the acting member holds, or None for no limit (operators in the admin)."""
    if actor is None or not actor.is_member:
        return None
    return actor.get_all_permissions()


def _check_actor_covers(*, actor, perms: set[str], message) -> None:
    held = _actor_perms(actor)
    if held is not None and not perms <= held:
        raise ValidationError(message, code="beyond_own_permissions")


def _check_may_manage(*, actor, member: User) -> None:
    """Nobody manages a member more powerful than themselves: otherwise a password reset
    would hand them that member's permissions."""
    _check_actor_covers(
        actor=actor,
        perms=_perms_of_roles(member.roles.all()),
        message=_("You cannot manage a member who holds permissions you do not hold yourself."),
    )


def _check_roles(*, actor, partner: Partner, roles: list[Role], member: User | None) -> None:
    """A member holds 1–3 roles; System Administrator alone; Customer Manager and Customer
    Manager Supervisor exclude each other (R19); the partner administrator keeps System
    Administrator; and nobody grants a role with permissions they do not hold."""
    roles = list(dict.fromkeys(roles))
    if not 1 <= len(roles) <= 3:
        raise ValidationError({"roles": ValidationError(_("Give a member one to three roles."), code="role_count")})
    if any(r.partner_id not in (None, partner.pk) for r in roles):
        raise ValidationError(
            {"roles": ValidationError(_("Choose roles of your own organization."), code="role_foreign")}
        )
    keys = {r.builtin for r in roles}
    if Role.Builtin.SYSTEM_ADMIN in keys and len(roles) > 1:
        raise ValidationError({"roles": ValidationError(
            _("System Administrator holds every permission and cannot be combined with another role."),
            code="system_admin_alone",
        )})
    if set(MANAGER_ROLES) <= keys:
        raise ValidationError({"roles": ValidationError(
            _("Customer Manager and Customer Manager Supervisor exclude each other: choose one of them."),
            code="manager_roles_exclusive",
        )})
    if member is not None and member.is_partner_admin and keys != {Role.Builtin.SYSTEM_ADMIN}:
        raise ValidationError({"roles": ValidationError(
            _("The partner administrator always holds the System Administrator role."), code="partner_admin_role"
        )})
    current = set(member.roles.all()) if member is not None else set()
    added = [r for r in roles if r not in current]
    if added:
        try:
            _check_actor_covers(
                actor=actor,
                perms=_perms_of_roles(added),
                message=_("You can only give roles whose permissions you hold yourself."),
            )
        except ValidationError as exc:
            raise ValidationError({"roles": exc})


def _check_supervisor(*, partner: Partner, member: User | None, roles: list[Role], supervisor: User | None) -> None:
    if supervisor is None:
        return
    if Role.Builtin.CUSTOMER_MANAGER not in {r.builtin for r in roles}:
        raise ValidationError({"supervisor": ValidationError(
            _("Only a customer manager has a supervisor."), code="supervisor_not_manager"
        )})
    valid = (
        supervisor.partner_id == partner.pk
        and supervisor.is_active
        and (member is None or supervisor.pk != member.pk)
        and supervisor.roles.filter(builtin=Role.Builtin.CUSTOMER_MANAGER_SUPERVISOR).exists()
    )
    if not valid:
        raise ValidationError({"supervisor": ValidationError(
            _("Choose an active member of your organization who holds the Customer Manager Supervisor role."),
            code="supervisor_invalid",
        )})


def _lock_partner(partner_id: int) -> Partner:
    return Partner.objects.select_for_update().get(pk=partner_id)


def _lock_member(member: User) -> User:
    return User.objects.select_for_update().get(pk=member.pk)


def _role_names(roles) -> list[str]:
    return sorted(r.display_name for r in roles)


# Members ---------------------------------------------------------------------------------


@transaction.atomic
def member_create(
    *,
    actor,
    partner: Partner,
    member_name: str,
    email: str,
    password: str | None,
    display_name: str = "",
    mobile: str = "",
    roles: list[Role],
    supervisor: User | None = None,
    is_partner_admin: bool = False,
) -> User:
    """Create an organization member (R17): the only way a member comes to exist."""
    partner = _lock_partner(partner.pk)
    member_name = member_name.strip()
    email = normalise_email(email)
    mobile = normalise_mobile(mobile)
    if User.objects.filter(partner=partner, kind=User.Kind.MEMBER, member_name=member_name).exists():
        raise ValidationError({"member_name": ValidationError(MEMBER_NAME_TAKEN, code="member_name_taken")})
    _check_contact_unique(email=email, mobile=mobile, exclude_pk=None)
    _check_roles(actor=actor, partner=partner, roles=roles, member=None)
    _check_supervisor(partner=partner, member=None, roles=roles, supervisor=supervisor)
    user = User(
        username=User.member_username(partner.account_name, member_name),
        kind=User.Kind.MEMBER,
        partner=partner,
        member_name=member_name,
        display_name=display_name.strip(),
        email=email,
        mobile=mobile,
        supervisor=supervisor,
        is_partner_admin=is_partner_admin,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    _save_member(user)
    user.roles.set(roles)
    record(
        event=Event.MEMBER_CREATED,
        actor=actor,
        partner=partner,
        after={
            "member": user.pk,
            "member_name": user.member_name,
            "email": user.email,
            "mobile": user.mobile,
            "roles": _role_names(roles),
            "supervisor": user.supervisor_id,
        },
    )
    return user


@transaction.atomic
def member_update(
    *,
    actor,
    member: User,
    display_name: str,
    email: str,
    mobile: str,
    roles: list[Role],
    supervisor: User | None,
) -> User:
    """Change a member's name, contact details, roles and supervisor. The member user name
    never changes (R17). A supervisor who loses the supervisor role stops supervising."""
    partner = _lock_partner(member.partner_id)
    member = _lock_member(member)
    _check_may_manage(actor=actor, member=member)
    email = normalise_email(email)
    mobile = normalise_mobile(mobile)
    _check_contact_unique(email=email, mobile=mobile, exclude_pk=member.pk)
    _check_roles(actor=actor, partner=partner, roles=roles, member=member)
    _check_supervisor(partner=partner, member=member, roles=roles, supervisor=supervisor)
    old_roles = list(member.roles.all())
    before = {
        "display_name": member.display_name,
        "email": member.email,
        "mobile": member.mobile,
        "roles": _role_names(old_roles),
        "supervisor": member.supervisor_id,
    }
    member.display_name = display_name.strip()
    member.email = email
    member.mobile = mobile
    member.supervisor = supervisor
    _save_member(member)
    member.roles.set(roles)
    after = {
        "display_name": member.display_name,
        "email": member.email,
        "mobile": member.mobile,
        "roles": _role_names(roles),
        "supervisor": member.supervisor_id,
    }
    if Role.Builtin.CUSTOMER_MANAGER_SUPERVISOR not in {r.builtin for r in roles}:
        released = list(User.objects.filter(supervisor=member).values_list("pk", flat=True))
        if released:
            User.objects.filter(pk__in=released).update(supervisor=None)
            before["supervises"], after["supervises"] = released, []
    changed = {k for k in after if before.get(k) != after[k]}
    if changed:
        record(
            event=Event.MEMBER_UPDATED,
            actor=actor,
            partner=partner,
            before={"member": member.pk, **{k: before[k] for k in changed}},
            after={"member": member.pk, **{k: after[k] for k in changed}},
        )
    return member


@transaction.atomic
def member_disable(*, actor, member: User) -> User:
    """A disabled member cannot sign in, and their open sessions end at their next request
    (the authentication backend refuses inactive users)."""
    partner = _lock_partner(member.partner_id)
    member = _lock_member(member)
    if not member.is_active:
        raise ValidationError(_("This member is already disabled."), code="already_disabled")
    if actor is not None and member.pk == actor.pk:
        raise ValidationError(_("You cannot disable yourself."), code="disable_self")
    if member.is_partner_admin:
        raise ValidationError(_("The partner administrator cannot be disabled."), code="disable_partner_admin")
    _check_may_manage(actor=actor, member=member)
    member.is_active = False
    member.save(update_fields=["is_active"])
    record(
        event=Event.MEMBER_DISABLED,
        actor=actor,
        partner=partner,
        before={"member": member.pk, "is_active": True},
        after={"member": member.pk, "is_active": False},
    )
    return member


@transaction.atomic
def member_enable(*, actor, member: User) -> User:
    partner = _lock_partner(member.partner_id)
    member = _lock_member(member)
    if member.is_active:
        raise ValidationError(_("This member is already active."), code="already_active")
    _check_may_manage(actor=actor, member=member)
    member.is_active = True
    member.save(update_fields=["is_active"])
    record(
        event=Event.MEMBER_ENABLED,
        actor=actor,
        partner=partner,
        before={"member": member.pk, "is_active": False},
        after={"member": member.pk, "is_active": True},
    )
    return member


@transaction.atomic
def member_reset_password(*, actor, member: User, password: str) -> User:
    """Set a new password for a member. Their open sessions end: Django ties a session to the
    password it was opened with."""
    partner = _lock_partner(member.partner_id)
    member = _lock_member(member)
    _check_may_manage(actor=actor, member=member)
    member.set_password(password)
    member.save(update_fields=["password"])
    record(event=Event.MEMBER_PASSWORD_RESET, actor=actor, partner=partner, after={"member": member.pk})
    return member


# Personal profile ------------------------------------------------------------------------


@transaction.atomic
def profile_update(
    *, actor: User, display_name: str, email: str, mobile: str, time_zone: str | None = None
) -> User:
    """A member edits their own name, e-mail, mobile and time zone (R21; ``None``: unchanged)."""
    partner = _lock_partner(actor.partner_id)
    member = _lock_member(actor)
    email = normalise_email(email)
    mobile = normalise_mobile(mobile)
    _check_contact_unique(email=email, mobile=mobile, exclude_pk=member.pk)
    before = {"display_name": member.display_name, "email": member.email, "mobile": member.mobile,
              "time_zone": member.time_zone}
    member.display_name, member.email, member.mobile = display_name.strip(), email, mobile
    if time_zone is not None:
        member.time_zone = time_zone
    _save_member(member)
    after = {"display_name": member.display_name, "email": member.email, "mobile": member.mobile,
             "time_zone": member.time_zone}
    changed = [k for k in after if before[k] != after[k]]
    if changed:
        record(
            event=Event.PROFILE_UPDATED,
            actor=member,
            partner=partner,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return member


@transaction.atomic
def password_change(*, actor: User, old_password: str, new_password: str) -> User:
    """A member changes their own password. Every other session of theirs ends (Django ties a
    session to the password); the view keeps the current one with update_session_auth_hash."""
    partner = _lock_partner(actor.partner_id)
    member = _lock_member(actor)
    if not member.check_password(old_password):
        raise ValidationError(
            {"old_password": ValidationError(_("Your current password is not correct."), code="password_incorrect")}
        )
    member.set_password(new_password)
    member.save(update_fields=["password"])
    record(event=Event.PASSWORD_CHANGED, actor=member, partner=partner, after={"member": member.pk})
    return member


# Roles -----------------------------------------------------------------------------------


def _permissions(perms: list[str]) -> list[Permission]:
    unknown = set(perms) - set(ALL_PORTAL_PERMISSIONS)
    if unknown:
        raise ValidationError({"permissions": ValidationError(
            _("Choose permissions from the list."), code="permission_unknown"
        )})
    wanted = {split(p) for p in perms}
    return [
        p for p in Permission.objects.select_related("content_type").filter(codename__in={c for _a, c in wanted})
        if (p.content_type.app_label, p.codename) in wanted
    ]


def _check_role_name(*, partner: Partner, name: str, role: Role | None) -> str:
    name = name.strip()
    builtin_names = {str(label).casefold() for label in Role.Builtin.labels} | {
        n.casefold() for n in Role.objects.filter(partner__isnull=True).values_list("name", flat=True)
    }
    taken = Role.objects.filter(partner=partner, name__iexact=name)
    if role is not None:
        taken = taken.exclude(pk=role.pk)
    if name.casefold() in builtin_names or taken.exists():
        raise ValidationError({"name": ValidationError(
            _("A role with this name exists already. Choose another name."), code="role_name_taken"
        )})
    return name


def _check_custom_role(*, actor, role: Role) -> None:
    if role.partner_id is None:
        raise ValidationError(_("Built-in roles cannot be changed or deleted."), code="builtin_role")
    if actor is not None and actor.is_member and role.partner_id != actor.partner_id:
        raise ValidationError(_("Choose roles of your own organization."), code="role_foreign")


@transaction.atomic
def role_create(*, actor, partner: Partner, name: str, description: str, permissions: list[str]) -> Role:
    """A custom role (R19): at most CUSTOM_ROLES_PER_PARTNER per partner."""
    partner = _lock_partner(partner.pk)
    limit = settings.PARTNER_CENTER["CUSTOM_ROLES_PER_PARTNER"]
    if Role.objects.filter(partner=partner).count() >= limit:
        raise ValidationError(
            _("Your organization has %(limit)d custom roles, the most it may have. Delete one first.")
            % {"limit": limit},
            code="role_limit",
        )
    name = _check_role_name(partner=partner, name=name, role=None)
    perms = _permissions(permissions)
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in perms}
    try:
        _check_actor_covers(
            actor=actor, perms=granted, message=_("You can only grant permissions you hold yourself.")
        )
    except ValidationError as exc:
        raise ValidationError({"permissions": exc})
    role = Role.objects.create(partner=partner, name=name, description=description.strip())
    role.permissions.set(perms)
    record(
        event=Event.ROLE_CREATED,
        actor=actor,
        partner=partner,
        after={"role": role.pk, "name": role.name, "permissions": sorted(granted)},
    )
    return role


@transaction.atomic
def role_update(*, actor, role: Role, name: str, description: str, permissions: list[str]) -> Role:
    _check_custom_role(actor=actor, role=role)
    partner = _lock_partner(role.partner_id)
    role = Role.objects.select_for_update().get(pk=role.pk)
    name = _check_role_name(partner=partner, name=name, role=role)
    perms = _permissions(permissions)
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in perms}
    current = _perms_of_roles([role])
    try:
        _check_actor_covers(
            actor=actor, perms=granted | current, message=_("You can only grant permissions you hold yourself.")
        )
    except ValidationError as exc:
        raise ValidationError({"permissions": exc})
    before = {"name": role.name, "description": role.description, "permissions": sorted(current)}
    role.name, role.description = name, description.strip()
    role.save(update_fields=["name", "description"])
    role.permissions.set(perms)
    after = {"name": role.name, "description": role.description, "permissions": sorted(granted)}
    changed = [k for k in after if before[k] != after[k]]
    if changed:
        record(
            event=Event.ROLE_UPDATED,
            actor=actor,
            partner=partner,
            before={"role": role.pk, **{k: before[k] for k in changed}},
            after={"role": role.pk, **{k: after[k] for k in changed}},
        )
    return role


@transaction.atomic
def role_delete(*, actor, role: Role) -> None:
    """A role some member holds cannot be deleted: take it from them first."""
    _check_custom_role(actor=actor, role=role)
    partner = _lock_partner(role.partner_id)
    role = Role.objects.select_for_update().get(pk=role.pk)
    holders = role.members.count()
    if holders:
        raise ValidationError(
            ngettext(
                "%(count)d member holds this role. Give them another role first, then delete it.",
                "%(count)d members hold this role. Give them another role first, then delete it.",
                holders,
            )
            % {"count": holders},
            code="role_in_use",
        )
    before = {"role": role.pk, "name": role.name, "permissions": sorted(_perms_of_roles([role]))}
    role.delete()
    record(event=Event.ROLE_DELETED, actor=actor, partner=partner, before=before)


# Organization settings -------------------------------------------------------------------


@transaction.atomic
def settings_update(*, actor, partner: Partner, operation_protection: bool) -> Partner:
    """The organization's settings: operation protection (R22)."""
    partner = _lock_partner(partner.pk)
    if partner.operation_protection != operation_protection:
        before = {"operation_protection": partner.operation_protection}
        partner.operation_protection = operation_protection
        partner.save(update_fields=["operation_protection"])
        record(
            event=Event.SETTINGS_UPDATED,
            actor=actor,
            partner=partner,
            before=before,
            after={"operation_protection": operation_protection},
        )
    return partner


# Customer managers -----------------------------------------------------------------------


@transaction.atomic
def customer_manager_assign(*, actor: User, customer_ids: list[int], manager: User | None) -> int:
    """Give one or many of the partner's own customers a customer manager (or none). All or
    nothing: if any chosen customer is no longer the actor's to manage, nothing changes.
    Returns how many customers changed manager."""
    partner = _lock_partner(actor.partner_id)
    wanted = set(customer_ids)
    if not wanted:
        raise ValidationError(_("Choose at least one customer."), code="no_customers")
    # Partner row first, then the customer rows in id order: the same order every action takes.
    customers = list(
        Customer.objects.select_for_update()
        .filter(pk__in=wanted)
        .filter(pk__in=active_associations_for(actor).values("customer_id"))
        .order_by("pk")
    )
    if len(customers) != len(wanted):
        raise ValidationError(
            _("Some of the chosen customers are no longer associated with you or not yours to manage. "
              "Reload the list and choose again."),
            code="customers_gone",
        )
    if manager is not None:
        valid = (
            User.objects.filter(
                pk=manager.pk, partner=partner, kind=User.Kind.MEMBER, is_active=True, roles__builtin__in=MANAGER_ROLES
            ).exists()
        )
        if not valid:
            raise ValidationError(
                {"manager": ValidationError(
                    _("Choose an active member of your organization who holds a customer manager role."),
                    code="manager_invalid",
                )}
            )
    changed = [c for c in customers if c.manager_id != (manager.pk if manager else None)]
    associations = {
        a.customer_id: a
        for a in Association.objects.filter(
            customer__in=changed, partner=partner, status=Association.Status.ACTIVE
        )
    }
    for customer in changed:
        record(
            event=Event.CUSTOMER_MANAGER_ASSIGNED,
            actor=actor,
            partner=partner,
            customer=customer,
            association=associations.get(customer.pk),
            before={"manager": customer.manager_id},
            after={"manager": manager.pk if manager else None},
        )
    Customer.objects.filter(pk__in=[c.pk for c in changed]).update(manager=manager)
    return len(changed)
