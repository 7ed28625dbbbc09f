"""Association requests, partner side (SPEC §3): submit a switch or unbind, cancel it, list
them, approve or reject a customer's dissociation — through customers.requests, as the portal's
request pages do, with their permissions and scoping."""
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from api.v1 import auth
from api.v1.idempotency import idempotent
from api.v1.openapi import from_body, from_first_result, link_to, problems_of
from api.v1.paging import page_json
from api.v1.problems import validation_failed
from api.v1.schemas import (
    MAX_ID,
    Approval,
    Reason,
    RequestFilters,
    RequestOut,
    RequestPage,
    RequestSubmit,
    RequiredReason,
)
from customers.requests import services as services
from customers.requests.forms import InboxFilterForm
from customers.requests.selectors import (
    ListedRequest,
    listed_request,
    request_for_member,
    request_listing,
    requests_for_member,
)
from customers.requests.services import SUBMIT_PERMISSION
from partnercenter.pagination import KeysetPaginator

router = Router(tags=["requests"])
Id = Path(..., ge=1, le=MAX_ID)


def request_json(r) -> dict:
    """A request as the API shows it, from the model (a request's own read)."""
    customer = r.association.customer
    requester = r.requested_by
    return _json(r, customer_id=customer.pk, account_name=customer.account_name, name=customer.name,
                 requested_by=requester.get_username() if requester else "")


def listed_request_json(r: ListedRequest) -> dict:
    """The same from a listed request (the list, ``customers.requests.selectors.request_listing``)."""
    return _json(r, customer_id=r.customer_id, account_name=r.customer_account_name, name=r.customer_name,
                 requested_by=r.requested_by or "")


def _json(r, *, customer_id: int, account_name: str, name: str, requested_by: str) -> dict:
    return {
        "id": r.pk,
        "kind": r.kind,
        "status": r.status,
        "customer": {"id": customer_id, "account_name": account_name, "name": name},
        "target_type": r.target_type,
        "reason": r.reason,
        "requested_by": requested_by,
        "created_at": r.created_at,
        "deadline": r.deadline,
        "handled_at": r.handled_at,
        "response_reason": r.response_reason,
        "failure_codes": list(r.failure_codes or []),
    }


# The member's own active association (404 otherwise) and a request of theirs, each read
# after settling its overdue request, as the portal's request pages read them.
association_for = services.own_association_settled
request_for = services.request_for_member_settled


@router.post(
    "/customers/{customer_id}/requests",
    response={201: RequestOut},
    auth=auth.partner("customers.view_customer"),
    operation_id="submitRequest",
    summary="Submit a switch or unbind request",
    description=(
        "Runs the account check under the locks; a failed check is a 409 listing every check that failed, "
        "with its advice. Needs the permission to switch (kind=switch) or unbind (kind=unbind)."
    ),
    openapi_extra=problems_of(idempotent=True, s404=["not_found"], s409=["checks_failed"], links={201: [
        link_to("getRequest", request_id=from_body()), link_to("cancelRequest", request_id=from_body())]}),
)
@idempotent
def submit_request(request, data: RequestSubmit, customer_id: int = Id):
    member = request.auth.member
    if not member.has_perm(SUBMIT_PERMISSION[data.kind]):
        raise PermissionDenied
    association = association_for(member, customer_id)
    created = services.request_submit(actor=member, association=association, kind=data.kind, reason=data.reason)
    return Status(201, request_json(request_for_member(member, created.pk)))


@router.get(
    "/requests",
    response=RequestPage,
    auth=auth.partner("customers.handle_dissociation"),
    operation_id="listRequests",
    summary="List requests",
    description="The portal's requests inbox: without filters, the pending dissociations waiting for the partner.",
    openapi_extra=problems_of(s404=["invalid_cursor"], links={200: [
        link_to(op, request_id=from_first_result())
        for op in ("getRequest", "approveDissociation", "rejectDissociation", "cancelRequest")]}),
)
def list_requests(request, filters: Query[RequestFilters]):
    member = request.auth.member
    services.request_expire_due(partner=member.partner, limit=settings.PARTNER_CENTER["PAGE_SIZE"])
    data = {k: v for k, v in (("kind", filters.kind), ("status", filters.status)) if v}
    lookups = InboxFilterForm(data or None).filters()
    if lookups is None:
        raise validation_failed({"status": [_("Choose a valid status.")]})
    qs = request_listing(requests_for_member(member).filter(**lookups))
    scope = f"api.requests:{member.partner_id}:{filters.kind or ''}:{filters.status or ''}"
    paginator = KeysetPaginator(qs, ["-id"], page_size=filters.limit, scope=scope, row=listed_request)
    return page_json(paginator, filters.cursor, listed_request_json)


@router.get(
    "/requests/{request_id}",
    response=RequestOut,
    auth=auth.partner("customers.view_customer"),
    operation_id="getRequest",
    summary="Read a request",
    openapi_extra=problems_of(s404=["not_found"]),
)
def get_request(request, request_id: int = Id):
    return request_json(request_for(request.auth.member, request_id))


@router.post(
    "/requests/{request_id}/cancel",
    response=RequestOut,
    auth=auth.partner("customers.view_customer"),
    operation_id="cancelRequest",
    summary="Cancel the partner's switch or unbind request",
    description="Needs the permission that submits the request's kind.",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"]),
)
@idempotent
def cancel_request(request, data: Reason, request_id: int = Id):
    member = request.auth.member
    association_request = request_for(member, request_id)
    permission = SUBMIT_PERMISSION.get(association_request.kind)
    if permission is None or not member.has_perm(permission):
        raise PermissionDenied
    services.request_cancel(actor=member, association_request=association_request, reason=data.reason)
    return request_json(request_for_member(member, request_id))


@router.post(
    "/requests/{request_id}/approve",
    response=RequestOut,
    auth=auth.partner("customers.handle_dissociation"),
    operation_id="approveDissociation",
    summary="Approve a customer's dissociation",
    description="Re-runs the approval's account check under the locks; a failed check is a 409 with every failure.",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"], s409=["checks_failed"]),
)
@idempotent
def approve_dissociation(request, data: Approval, request_id: int = Id):
    member = request.auth.member
    association_request = request_for(member, request_id)
    services.request_approve(actor=member, association_request=association_request, reason=data.reason)
    return request_json(request_for_member(member, request_id))


@router.post(
    "/requests/{request_id}/reject",
    response=RequestOut,
    auth=auth.partner("customers.handle_dissociation"),
    operation_id="rejectDissociation",
    summary="Reject a customer's dissociation",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"]),
)
@idempotent
def reject_dissociation(request, data: RequiredReason, request_id: int = Id):
    member = request.auth.member
    association_request = request_for(member, request_id)
    services.request_reject(actor=member, association_request=association_request, reason=data.reason)
    return request_json(request_for_member(member, request_id))
