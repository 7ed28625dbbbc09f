"""Sales › Leads in the partner portal: invitations (pre-registration), the public partner
link, and project registrations."""
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from customers.invitations import services as services
from customers.invitations.forms import (
    TYPE_HELP,
    InvitationFilterForm,
    InvitationForm,
    InvitationResendForm,
    ProjectRegistrationForm,
)
from customers.invitations.rows import INVITATION_ROW_FIELDS, invitation_rows_context, project_rows_context
from customers.invitations.selectors import (
    invitation_for_member,
    invitation_status_filter,
    invitations_for,
    projects_for,
)
from customers.models import Association, Invitation
from partnercenter.access import member_permission_required
from partnercenter.actions import form_page, posted
from partnercenter.pagination import filter_data, filtered, list_page

INVITE = "customers.invite_customers"


def _filter_invitations(qs, *, q="", status=""):
    if q.strip():
        term = q.strip()
        qs = qs.filter(Q(email__icontains=term) | Q(name__icontains=term))
    if status:
        qs = qs.filter(invitation_status_filter(status))
    return qs


def _remaining_today(partner) -> int:
    limit = settings.PARTNER_CENTER["INVITATIONS_PER_PARTNER_PER_DAY"]
    return max(limit - services.invitations_sent_today(partner), 0)


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


@require_GET
@member_permission_required(INVITE)
def invitation_list(request):
    form = InvitationFilterForm(filter_data(request))
    qs = filtered(invitations_for(request.user), form, _filter_invitations)
    # The rows read the columns they show (and the nonce of the link), not every column of the
    # invitation and of the member who sent it.
    listing = qs.select_related("created_by").only(*INVITATION_ROW_FIELDS)
    listed = list_page(
        request, queryset=qs, listing=listing, ordering=["-sent_at", "-id"], scope=f"invitations:{request.user.pk}",
        form=form,
    )
    for invitation in listed.rows:
        if invitation.display_status == Invitation.Status.SENT:
            invitation.link = request.build_absolute_uri(services.invitation_path(invitation))
    return render(
        request,
        "customers/invitations/list.html",
        listed.context(
            remaining_today=_remaining_today(request.user.partner), row_context=invitation_rows_context(request)
        ),
    )


@require_http_methods(["GET", "POST"])
@member_permission_required(INVITE)
def invitation_create(request):
    form = InvitationForm(posted(request))
    return form_page(
        request,
        form,
        act=lambda data: services.invitation_send(actor=request.user, base_url=_base_url(request), **data),
        success=lambda invitation: _("The invitation was sent to %(email)s. The link is valid for %(days)s days.")
        % {"email": invitation.email, "days": settings.PARTNER_CENTER["INVITATION_VALID_DAYS"]},
        done=lambda _invitation: redirect("customers:invitation_list"),
        page=lambda: render(
            request,
            "customers/invitations/invite.html",
            {
                "form": form,
                "type_help": TYPE_HELP,
                "remaining_today": _remaining_today(request.user.partner),
                "daily_limit": settings.PARTNER_CENTER["INVITATIONS_PER_PARTNER_PER_DAY"],
            },
        ),
    )


@require_http_methods(["GET", "POST"])
@member_permission_required(INVITE)
def invitation_resend(request, pk):
    invitation = invitation_for_member(request.user, pk)
    form = InvitationResendForm.for_invitation(invitation, posted(request))
    return form_page(
        request,
        form,
        act=lambda data: services.invitation_resend(
            actor=request.user, invitation=invitation, base_url=_base_url(request), **data
        ),
        success=lambda new: _("A new invitation was sent to %(email)s; the previous link no longer works.")
        % {"email": new.email},
        done=lambda _new: redirect("customers:invitation_list"),
        page=lambda: render(request, "customers/invitations/resend.html", {"form": form, "invitation": invitation}),
    )


@require_http_methods(["GET", "POST"])
@member_permission_required(INVITE)
def invitation_revoke(request, pk):
    invitation = invitation_for_member(request.user, pk)
    errors = []
    if request.method == "POST":
        try:
            services.invitation_revoke(actor=request.user, invitation=invitation)
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, _("The invitation to %(email)s was revoked.") % {"email": invitation.email})
            return redirect("customers:invitation_list")
    return render(request, "customers/invitations/revoke.html", {"invitation": invitation, "errors": errors})


@require_GET
@member_permission_required(INVITE)
def public_link(request):
    partner = request.user.partner
    links = [
        (label, TYPE_HELP[type], request.build_absolute_uri(services.public_link_path(partner, type)))
        for type, label in Association.Type.choices
    ]
    return render(
        request,
        "customers/invitations/public_link.html",
        {"links": links, "max_age_days": settings.PARTNER_CENTER["PUBLIC_LINK_MAX_ACCOUNT_AGE_DAYS"]},
    )


@require_GET
@member_permission_required(INVITE)
def project_list(request):
    qs = projects_for(request.user).select_related("customer", "submitted_by")
    listed = list_page(request, queryset=qs, ordering=["-id"], scope=f"projects:{request.user.pk}")
    return render(
        request,
        "customers/invitations/projects.html",
        listed.context(
            refusal=services.project_register_refusal(request.user.partner), row_context=project_rows_context(request)
        ),
    )


@require_http_methods(["GET", "POST"])
@member_permission_required(INVITE)
def project_create(request):
    refusal = services.project_register_refusal(request.user.partner)
    form = ProjectRegistrationForm(posted(request), user=request.user)
    return form_page(
        request,
        form,
        act=lambda data: services.project_register(actor=request.user, **data),
        success=lambda project: _("The project %(name)s was registered; the vendor will review it.")
        % {"name": project.name},
        done=lambda _project: redirect("customers:project_list"),
        page=lambda: render(request, "customers/invitations/project_form.html", {"form": form, "refusal": refusal}),
    )
