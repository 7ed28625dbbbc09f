"""Invitations, the public partner link and project registration (Sales › Leads), through
customers.invitations as the portal's invitation and project pages do."""
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils import translation
from ninja import Path, Query, Router, Status

from api.v1 import auth
from api.v1.idempotency import idempotent
from api.v1.openapi import from_body, from_first_result, link_to, problems_of
from api.v1.paging import page_json
from api.v1.schemas import (
    MAX_ID,
    CursorLimit,
    InvitationFilters,
    InvitationIn,
    InvitationOut,
    InvitationPage,
    InvitationResendIn,
    ProjectIn,
    ProjectOut,
    ProjectPage,
    PublicLinkOut,
)
from customers.invitations import services as services
from customers.invitations.selectors import (
    invitation_for_member,
    invitation_status_filter,
    invitations_for,
    projects_for,
)
from customers.models import Association, Invitation
from customers.selectors import own_association_for_member
from partnercenter.pagination import KeysetPaginator

router = Router(tags=["invitations"])
Id = Path(..., ge=1, le=MAX_ID)
INVITE = "customers.invite_customers"


def invitation_json(request, invitation) -> dict:
    status = getattr(invitation, "display_status", invitation.status)
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "name": invitation.name,
        "type": invitation.type,
        "status": status,
        "sent_at": invitation.sent_at,
        "expires_at": invitation.expires_at,
        "link": request.build_absolute_uri(services.invitation_path(invitation))
        if status == Invitation.Status.SENT else None,
    }


def base_url(request) -> str:
    return request.build_absolute_uri("/")


@router.post(
    "/invitations",
    response={201: InvitationOut},
    auth=auth.partner(INVITE),
    operation_id="createInvitation",
    summary="Invite a customer by e-mail",
    description="Subject to the partner's daily invitation limit and one open invitation per e-mail.",
    openapi_extra=problems_of(idempotent=True, links={201: [
        link_to(op, invitation_id=from_body()) for op in ("resendInvitation", "revokeInvitation")]}),
)
@idempotent
def create_invitation(request, data: InvitationIn):
    member = request.auth.member
    invitation = services.invitation_send(
        actor=member, email=data.email, name=data.name, type=data.type,
        language=data.language or translation.get_language(), base_url=base_url(request),
    )
    return Status(201, invitation_json(request, invitation_for_member(member, invitation.pk)))


@router.get(
    "/invitations",
    response=InvitationPage,
    auth=auth.partner(INVITE),
    operation_id="listInvitations",
    summary="List invitations",
    description="Newest first, with the portal's search (e-mail or name) and status filter.",
    openapi_extra=problems_of(s404=["invalid_cursor"], links={200: [
        link_to(op, invitation_id=from_first_result()) for op in ("resendInvitation", "revokeInvitation")]}),
)
def list_invitations(request, filters: Query[InvitationFilters]):
    member = request.auth.member
    qs = invitations_for(member)
    if filters.q.strip():
        term = filters.q.strip()
        qs = qs.filter(Q(email__icontains=term) | Q(name__icontains=term))
    if filters.status:
        qs = qs.filter(invitation_status_filter(filters.status))
    scope = f"api.invitations:{member.pk}:{filters.q}:{filters.status or ''}"
    paginator = KeysetPaginator(qs, ["-sent_at", "-id"], page_size=filters.limit, scope=scope)
    return page_json(paginator, filters.cursor, lambda invitation: invitation_json(request, invitation))


@router.post(
    "/invitations/{invitation_id}/resend",
    response={201: InvitationOut},
    auth=auth.partner(INVITE),
    operation_id="resendInvitation",
    summary="Re-send an invitation, to a changed e-mail if need be",
    description="The old invitation is superseded by the new one.",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"]),
)
@idempotent
def resend_invitation(request, data: InvitationResendIn, invitation_id: int = Id):
    member = request.auth.member
    invitation = invitation_for_member(member, invitation_id)
    new = services.invitation_resend(
        actor=member, invitation=invitation, email=data.email, name=data.name,
        language=data.language or translation.get_language(), base_url=base_url(request),
    )
    return Status(201, invitation_json(request, invitation_for_member(member, new.pk)))


@router.post(
    "/invitations/{invitation_id}/revoke",
    response=InvitationOut,
    auth=auth.partner(INVITE),
    operation_id="revokeInvitation",
    summary="Revoke an invitation",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"]),
)
@idempotent
def revoke_invitation(request, invitation_id: int = Id):
    member = request.auth.member
    services.invitation_revoke(actor=member, invitation=invitation_for_member(member, invitation_id))
    return invitation_json(request, invitation_for_member(member, invitation_id))


@router.get(
    "/public-links",
    response=list[PublicLinkOut],
    auth=auth.partner(INVITE),
    operation_id="listPublicLinks",
    summary="The partner's public links, one per association type",
)
def list_public_links(request):
    partner = request.auth.partner
    return [
        {"type": type, "url": request.build_absolute_uri(services.public_link_path(partner, type))}
        for type in Association.Type.values
    ]


def project_json(project) -> dict:
    customer = project.customer
    return {
        "id": project.pk,
        "customer": {"id": customer.pk, "account_name": customer.account_name, "name": customer.name},
        **{name: getattr(project, name) for name in (
            "name", "expected_amount", "expected_close", "description", "status", "submitted_at", "reviewed_at",
            "review_reason")},
    }


@router.post(
    "/projects",
    response={201: ProjectOut},
    auth=auth.partner(INVITE),
    operation_id="registerProject",
    summary="Register a project for a customer (项目报备)",
    description=(
        "Only for partners in the vendor's migration programme (409 not_in_programme otherwise), and only for "
        "the partner's own associated customers. The vendor reviews it."
    ),
    openapi_extra=problems_of(idempotent=True, s404=["not_found"], s409=["not_in_programme", "past"]),
)
@idempotent
def register_project(request, data: ProjectIn):
    member = request.auth.member
    association = own_association_for_member(member, data.customer_id)
    project = services.project_register(
        actor=member, customer=association.customer, name=data.name, expected_amount=Decimal(data.expected_amount),
        expected_close=date.fromisoformat(data.expected_close), description=data.description,
    )
    return Status(201, project_json(projects_for(member).select_related("customer").get(pk=project.pk)))


@router.get(
    "/projects",
    response=ProjectPage,
    auth=auth.partner(INVITE),
    operation_id="listProjects",
    summary="The partner's project registrations, newest first",
    openapi_extra=problems_of(s404=["invalid_cursor"]),
)
def list_projects(request, params: Query[CursorLimit]):
    member = request.auth.member
    qs = projects_for(member).select_related("customer")
    paginator = KeysetPaginator(qs, ["-id"], page_size=params.limit, scope=f"api.projects:{member.pk}")
    return page_json(paginator, params.cursor, project_json)

