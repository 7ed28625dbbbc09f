"""Organization pages of the partner portal: Members, Roles, Settings, the personal profile
(Partner info › Basic info) and the customer-manager assignment from the customer list."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from organization import services
from organization.member_forms import (
    CustomerManagerAssignForm,
    MemberCreateForm,
    MemberUpdateForm,
    PasswordChangeForm,
    PasswordResetForm,
    ProfileForm,
    RoleForm,
    SettingsForm,
    permission_label,
)
from organization.models import Role
from organization.protection import operation_protected, protection_minutes
from organization.rows import member_rows_context, role_rows_context
from organization.selectors import member_for, members_of, role_for, roles_with_member_counts
from partnercenter.access import member_permission_required, member_required
from partnercenter.actions import form_page, post_action, posted
from partnercenter.pagination import list_page

MANAGE_MEMBERS = "organization.manage_members"
MANAGE_ROLES = "organization.manage_roles"
MANAGE_SETTINGS = "organization.manage_settings"


def _member_fields(data) -> dict:
    """What the create and edit forms of a member pass to their service alike."""
    return {
        "display_name": data["display_name"],
        "email": data["email"],
        "mobile": data["mobile"],
        "roles": list(data["roles"]),
        "supervisor": data["supervisor"],
    }


def _role_fields(data) -> dict:
    return {"name": data["name"], "description": data["description"], "permissions": data["permissions"]}


# Members ---------------------------------------------------------------------------------


@require_GET
@member_permission_required(MANAGE_MEMBERS)
def member_list(request):
    members = members_of(request.user).select_related("supervisor").prefetch_related("roles")
    listed = list_page(
        request,
        queryset=members,
        ordering=["member_name", "id"],
        scope=f"members:{request.user.partner_id}",
        count=False,
    )
    return render(request, "organization/member_list.html", listed.context(row_context=member_rows_context(request)))


@require_http_methods(["GET", "POST"])
@member_permission_required(MANAGE_MEMBERS)
def member_create(request):
    actor = request.user
    form = MemberCreateForm(posted(request), actor=actor)
    return form_page(
        request,
        form,
        act=lambda data: services.member_create(
            actor=actor,
            partner=actor.partner,
            member_name=data["member_name"],
            password=data["password1"],
            **_member_fields(data),
        ),
        success=lambda member: _("Member %(name)s created.") % {"name": member.member_name},
        done=lambda _member: redirect("organization:members"),
        page=lambda: render(request, "organization/member_form.html", {"form": form, "member": None}),
    )


@require_http_methods(["GET", "POST"])
@member_permission_required(MANAGE_MEMBERS)
def member_edit(request, pk):
    actor = request.user
    member = member_for(actor, pk)
    form = MemberUpdateForm(posted(request), actor=actor, member=member)
    return form_page(
        request,
        form,
        act=lambda data: services.member_update(actor=actor, member=member, **_member_fields(data)),
        success=lambda _updated: _("Member %(name)s saved.") % {"name": member.member_name},
        done=lambda _updated: redirect("organization:members"),
        page=lambda: render(request, "organization/member_form.html", {"form": form, "member": member}),
    )


@require_POST
@member_permission_required(MANAGE_MEMBERS)
def member_disable(request, pk):
    member = member_for(request.user, pk)
    return post_action(
        request,
        act=lambda: services.member_disable(actor=request.user, member=member),
        success=_("Member %(name)s disabled: they can no longer sign in.") % {"name": member.member_name},
        done=lambda: redirect("organization:members"),
    )


@require_POST
@member_permission_required(MANAGE_MEMBERS)
def member_enable(request, pk):
    member = member_for(request.user, pk)
    return post_action(
        request,
        act=lambda: services.member_enable(actor=request.user, member=member),
        success=_("Member %(name)s enabled.") % {"name": member.member_name},
        done=lambda: redirect("organization:members"),
    )


@require_http_methods(["GET", "POST"])
@member_permission_required(MANAGE_MEMBERS)
def member_reset_password(request, pk):
    member = member_for(request.user, pk)
    form = PasswordResetForm(posted(request), member=member)
    return form_page(
        request,
        form,
        act=lambda data: services.member_reset_password(actor=request.user, member=member, password=data["password1"]),
        success=_("The password of %(name)s was reset; their open sessions have ended.") % {"name": member.member_name},
        done=lambda _member: redirect("organization:members"),
        page=lambda: render(request, "organization/member_reset_password.html", {"form": form, "member": member}),
    )


# Roles -----------------------------------------------------------------------------------


@require_GET
@member_permission_required(MANAGE_ROLES)
def role_list(request):
    # Not a paged list: the built-in roles and at most CUSTOM_ROLES_PER_PARTNER of the partner's.
    roles = list(roles_with_member_counts(request.user))
    for role in roles:
        role.permission_labels = [
            permission_label(f"{p.content_type.app_label}.{p.codename}") for p in role.permissions.all()
        ]
    # The list holds every custom role of the partner: counted from it, not read again.
    custom = sum(1 for role in roles if role.partner_id is not None)
    context = {"roles": roles, "row_context": role_rows_context(request), **_role_limit(request.user.partner, custom)}
    return render(request, "organization/role_list.html", context)


def _role_limit(partner, custom: int | None = None) -> dict:
    """Whether the partner has as many custom roles as it may (R19): the pages then say so and
    offer no form that the service would refuse. ``custom``: how many it has, when known."""
    limit = settings.PARTNER_CENTER["CUSTOM_ROLES_PER_PARTNER"]
    if custom is None:
        custom = Role.objects.filter(partner=partner).count()
    return {"role_limit": limit, "role_limit_reached": custom >= limit}


@require_http_methods(["GET", "POST"])
@member_permission_required(MANAGE_ROLES)
def role_create(request):
    actor = request.user
    form = RoleForm(posted(request))
    return form_page(
        request,
        form,
        act=lambda data: services.role_create(actor=actor, partner=actor.partner, **_role_fields(data)),
        success=lambda role: _("Role %(name)s created.") % {"name": role.name},
        done=lambda _role: redirect("organization:roles"),
        page=lambda: render(
            request, "organization/role_form.html", {"form": form, "role": None, **_role_limit(actor.partner)}
        ),
    )


@require_http_methods(["GET", "POST"])
@member_permission_required(MANAGE_ROLES)
def role_edit(request, pk):
    """Custom roles are edited here; built-in roles are shown read-only."""
    actor = request.user
    role = role_for(actor, pk)
    form = RoleForm(posted(request), role=role)
    return form_page(
        request,
        form,
        act=lambda data: services.role_update(actor=actor, role=role, **_role_fields(data)),
        success=lambda updated: _("Role %(name)s saved.") % {"name": updated.name},
        done=lambda _role: redirect("organization:roles"),
        page=lambda: render(
            request, "organization/role_form.html", {"form": form, "role": role, "read_only": role.partner_id is None}
        ),
    )


@require_POST
@member_permission_required(MANAGE_ROLES)
def role_delete(request, pk):
    role = role_for(request.user, pk)
    return post_action(
        request,
        act=lambda: services.role_delete(actor=request.user, role=role),
        success=_("Role %(name)s deleted.") % {"name": role.name},
        done=lambda: redirect("organization:roles"),
    )


# Settings --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_permission_required(MANAGE_SETTINGS)
@operation_protected
def organization_settings(request):
    """Turning operation protection off is itself protected: otherwise anyone holding a
    member's open session could switch it off and then act unasked."""
    actor = request.user
    minutes = protection_minutes()
    form = SettingsForm(
        posted(request), minutes=minutes, initial={"operation_protection": actor.partner.operation_protection}
    )
    return form_page(
        request,
        form,
        act=lambda data: services.settings_update(
            actor=actor, partner=actor.partner, operation_protection=data["operation_protection"]
        ),
        success=_("Settings saved."),
        done=lambda _partner: redirect("organization:settings"),
        page=lambda: render(request, "organization/settings.html", {"form": form}),
    )


# Personal profile (Partner info › Basic info) --------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required
def profile(request):
    member = request.user
    form = ProfileForm(
        posted(request),
        initial={
            "display_name": member.display_name, "email": member.email, "mobile": member.mobile,
            "time_zone": member.time_zone,
        },
    )
    return form_page(
        request,
        form,
        act=lambda data: services.profile_update(
            actor=member, display_name=data["display_name"], email=data["email"], mobile=data["mobile"],
            time_zone=data["time_zone"],
        ),
        success=_("Your profile was saved."),
        done=lambda _member: redirect("organization:profile"),
        page=lambda: render(request, "organization/profile.html", {"form": form, "partner": member.partner}),
    )


@require_http_methods(["GET", "POST"])
@member_required
def password_change(request):
    member = request.user
    form = PasswordChangeForm(posted(request), member=member, request=request)

    def changed(member):
        # The new password ends every session of this member; keep this one.
        update_session_auth_hash(request, member)
        return redirect("organization:profile")

    return form_page(
        request,
        form,
        act=lambda data: services.password_change(
            actor=member, old_password=data["old_password"], new_password=data["password1"]
        ),
        success=_("Your password was changed. You were signed out everywhere else."),
        done=changed,
        page=lambda: render(request, "organization/password_change.html", {"form": form}),
    )


# Customer managers -----------------------------------------------------------------------


@require_POST
@member_permission_required("customers.view_customer", MANAGE_MEMBERS)
def customer_manager_assign(request):
    actor = request.user
    form = CustomerManagerAssignForm(request.POST, actor=actor)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("customers:list")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        count = services.customer_manager_assign(
            actor=actor, customer_ids=form.cleaned_data["customers"], manager=form.cleaned_data["manager"]
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(back)
    manager = form.cleaned_data["manager"]
    if manager is None:
        text = ngettext(
            "%(count)d customer no longer has a customer manager.",
            "%(count)d customers no longer have a customer manager.",
            count,
        ) % {"count": count}
    else:
        text = ngettext(
            "%(count)d customer now has %(manager)s as customer manager.",
            "%(count)d customers now have %(manager)s as customer manager.",
            count,
        ) % {"count": count, "manager": manager}
    messages.success(request, text)
    return redirect(back)
