"""The customer token (SPEC R28): the customer's own association, balance, vouchers, records and
requests (readonly and te_admin), and, with te_admin, what the customer does in the Account
Center — agree to, reject or cancel a request, ask for a dissociation — as the customer, through
the same services; and accept or decline an invitation or a partner's public link, given the
link's token. Never on a request started, or an offer made, by the partner that minted the
token: a partner cannot agree to its own switch or unbind, nor accept its own invitation,
through an exchanged token."""
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from api.errors import ApiError
from api.v1 import auth
from api.v1.customers import association_json
from api.v1.idempotency import idempotent
from api.v1.openapi import problems_of
from api.v1.paging import page_json
from api.v1.requests import request_json
from api.v1.schemas import (
    MAX_ID,
    Approval,
    AssociationOut,
    CursorLimit,
    DeclinedInvitationOut,
    LinkIn,
    MyAccountOut,
    MyVoucherOut,
    Reason,
    RecordPage,
    RequestOut,
    RequestPage,
    RequiredReason,
)
from audit.selectors import records_of_customer
from customers.funds.selectors import customer_funds_for_account_center
from customers.invitations import services as invitations
from customers.requests import services as services
from customers.requests.selectors import active_association_for_customer, request_for_customer, requests_for_customer
from partnercenter.pagination import KeysetPaginator

router = Router(tags=["customer token"])
Id = Path(..., ge=1, le=MAX_ID)


def record_json(record) -> dict:
    return {name: getattr(record, name) for name in (
        "id", "created_at", "event", "category", "customer_id", "actor_kind", "actor_name", "reason")}


def _own_request(token, request_pk):
    association_request = services.request_for_customer_settled(token.customer, request_pk)
    requester = association_request.requested_by
    if requester is not None and requester.partner_id == token.partner_id:
        raise PermissionDenied(
            _("This request was started by the partner that holds this token; only the customer can answer it.")
        )
    return association_request


@router.get("/me", response=MyAccountOut, auth=auth.customer(), operation_id="getMyAccount",
            summary="The customer's own account and association")
def get_my_account(request):
    token = request.auth
    customer = token.customer
    association = active_association_for_customer(customer)
    return {
        "customer": {"id": customer.pk, "account_name": customer.account_name, "name": customer.name},
        "association": association_json(association, token.member),
        **{name: getattr(customer, name) for name in (
            "cash_balance", "cash_withdraw_only", "allocated_balance", "arrears", "frozen")},
    }


@router.get("/me/vouchers", response=list[MyVoucherOut], auth=auth.customer(), operation_id="listMyVouchers",
            summary="The customer's latest vouchers, from whichever partner")
def list_my_vouchers(request):
    vouchers = customer_funds_for_account_center(customer=request.auth.customer)["funds_vouchers"]
    return [
        {"id": v.pk, "partner": {"id": v.partner.pk, "account_name": v.partner.account_name, "name": v.partner.name},
         "amount": v.amount, "status": v.status, "expires_at": v.expires_at, "issued_at": v.issued_at}
        for v in vouchers
    ]


@router.get("/me/records", response=RecordPage, auth=auth.customer(), operation_id="listMyRecords",
            summary="The customer's own operation records", openapi_extra=problems_of(s404=["invalid_cursor"]))
def list_my_records(request, params: Query[CursorLimit]):
    customer = request.auth.customer
    paginator = KeysetPaginator(records_of_customer(customer), ["-id"], page_size=params.limit,
                                scope=f"api.me.records:{customer.pk}")
    return page_json(paginator, params.cursor, record_json)


@router.get("/me/requests", response=RequestPage, auth=auth.customer(), operation_id="listMyRequests",
            summary="The customer's requests", openapi_extra=problems_of(s404=["invalid_cursor"]))
def list_my_requests(request, params: Query[CursorLimit]):
    customer = request.auth.customer
    qs = requests_for_customer(customer).select_related("association__customer", "requested_by")
    paginator = KeysetPaginator(qs, ["-id"], page_size=params.limit, scope=f"api.me.requests:{customer.pk}")
    return page_json(paginator, params.cursor, request_json)


@router.post("/me/requests/{request_id}/agree", response=RequestOut, auth=auth.customer(te_admin=True),
             operation_id="agreeToRequest", summary="Agree to a partner's switch or unbind, as the customer",
             openapi_extra=problems_of(idempotent=True, s404=["not_found"], s409=["checks_failed"]))
@idempotent
def agree_to_request(request, data: Approval, request_id: int = Id):
    token = request.auth
    association_request = _own_request(token, request_id)
    services.request_confirm(actor=token.customer.user, association_request=association_request, reason=data.reason)
    return request_json(request_for_customer(token.customer, request_id))


@router.post("/me/requests/{request_id}/reject", response=RequestOut, auth=auth.customer(te_admin=True),
             operation_id="rejectRequestAsCustomer", summary="Reject a partner's switch or unbind, as the customer",
             openapi_extra=problems_of(idempotent=True, s404=["not_found"]))
@idempotent
def reject_request_as_customer(request, data: RequiredReason, request_id: int = Id):
    token = request.auth
    association_request = _own_request(token, request_id)
    services.request_reject(actor=token.customer.user, association_request=association_request, reason=data.reason)
    return request_json(request_for_customer(token.customer, request_id))


@router.post("/me/requests/{request_id}/cancel", response=RequestOut, auth=auth.customer(te_admin=True),
             operation_id="cancelRequestAsCustomer", summary="Cancel the customer's own dissociation request",
             openapi_extra=problems_of(idempotent=True, s404=["not_found"]))
@idempotent
def cancel_request_as_customer(request, data: Reason, request_id: int = Id):
    token = request.auth
    association_request = _own_request(token, request_id)
    services.request_cancel(actor=token.customer.user, association_request=association_request, reason=data.reason)
    return request_json(request_for_customer(token.customer, request_id))


@router.post("/me/dissociation", response={201: RequestOut}, auth=auth.customer(te_admin=True),
             operation_id="requestDissociation", summary="Ask to end the association, as the customer",
             openapi_extra=problems_of(idempotent=True, s404=["not_found"], s409=["checks_failed"]))
@idempotent
def request_dissociation(request, data: RequiredReason):
    token = request.auth
    customer = token.customer
    association = services.customer_association_settled(customer)
    if association is None:
        from django.http import Http404

        raise Http404
    created = services.request_submit_dissociation(actor=customer.user, association=association, reason=data.reason)
    return Status(201, request_json(request_for_customer(customer, created.pk)))


# Offers: an invitation or a partner's public link ------------------------------------------------

def _own_offer_refused(token, partner_id: int) -> None:
    if partner_id == token.partner_id:
        raise PermissionDenied(
            _("This offer was made by the partner that holds this token; only the customer can answer it.")
        )


def _offer(token, link: str, *, public: bool):
    """The partner making the offer of ``link``: a forged or tampered link is a 404
    ``link_invalid``, an invitation that no longer works a 410 ``link_unusable``, both
    saying why, as the customer's link page does."""
    try:
        if public:
            partner, _type = invitations.public_link_from_token(link)
            partner_id = partner.pk
        else:
            invitation = invitations.invitation_from_token(link)
            invitations.invitation_ensure_usable(invitation)
            partner_id = invitation.partner_id
    except invitations.LinkInvalid as error:
        raise ApiError(404, "link_invalid", " ".join(error.messages)) from None
    except invitations.LinkUnusable as error:
        raise ApiError(410, "link_unusable", " ".join(error.messages)) from None
    _own_offer_refused(token, partner_id)


def _answer(token, link: str, answer):
    try:
        return answer(actor=token.customer.user, token=link)
    except invitations.LinkUnusable as error:  # used or revoked meanwhile
        raise ApiError(410, "link_unusable", " ".join(error.messages)) from None


OFFER_PROBLEMS = dict(idempotent=True, s404=["link_invalid"], s409=["checks_failed"])


@router.post("/me/invitations/accept", response={201: AssociationOut}, auth=auth.customer(te_admin=True),
             operation_id="acceptInvitation", summary="Accept an invitation, as the customer",
             description=(
                 "Runs the account check of acceptance (R3) under the locks; a failed check is a 409 listing "
                 "every failure with its advice. Not for the token's own partner's invitations."),
             openapi_extra=problems_of(**OFFER_PROBLEMS, s410=["link_unusable"]))
@idempotent
def accept_invitation(request, data: LinkIn):
    token = request.auth
    _offer(token, data.token, public=False)
    association = _answer(token, data.token, invitations.invitation_accept)
    return Status(201, association_json(association, token.member))


@router.post("/me/invitations/decline", response=DeclinedInvitationOut, auth=auth.customer(te_admin=True),
             operation_id="declineInvitation", summary="Decline an invitation, as the customer",
             openapi_extra=problems_of(idempotent=True, s404=["link_invalid"], s410=["link_unusable"]))
@idempotent
def decline_invitation(request, data: LinkIn):
    token = request.auth
    _offer(token, data.token, public=False)
    invitation = _answer(token, data.token, invitations.invitation_decline)
    partner = invitation.partner
    return {"id": invitation.pk, "type": invitation.type, "status": invitation.status,
            "partner": {"id": partner.pk, "account_name": partner.account_name, "name": partner.name}}


@router.post("/me/public-link/accept", response={201: AssociationOut}, auth=auth.customer(te_admin=True),
             operation_id="acceptPublicLink", summary="Accept a partner's public link, as the customer",
             description=(
                 "Only a new account without consumption may (R2b); the account check of acceptance runs under "
                 "the locks and a failed check is a 409 listing every failure."),
             openapi_extra=problems_of(**OFFER_PROBLEMS))
@idempotent
def accept_public_link(request, data: LinkIn):
    token = request.auth
    _offer(token, data.token, public=True)
    association = _answer(token, data.token, invitations.public_link_accept)
    return Status(201, association_json(association, token.member))

