"""Invitations and the public partner link (Sales › Leads), through customers.invitations as
the portal's invitation pages do."""
from django.db.models import Q
from django.utils import translation
from ninja import Path, Query, Router, Status

from api.v1 import auth
from api.v1.customers import page_of
from api.v1.idempotency import idempotent
from api.v1.openapi import problems_of
from api.v1.schemas import (
    MAX_ID,
    InvitationFilters,
    InvitationIn,
    InvitationOut,
    InvitationPage,
    InvitationResendIn,
    PublicLinkOut,
)
from customers.invitations import services as services
from customers.invitations.selectors import invitation_for_member, invitation_status_filter, invitations_for
from customers.models import Association, Invitation
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
    openapi_extra=problems_of(idempotent=True),
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
    openapi_extra=problems_of(s404=["invalid_cursor"]),
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
    page = page_of(KeysetPaginator(qs, ["-sent_at", "-id"], page_size=filters.limit, scope=scope), filters.cursor)
    return {"results": [invitation_json(request, i) for i in page.rows], "next_cursor": page.next_cursor,
            "previous_cursor": page.prev_cursor}


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
