"""The customer token (SPEC R28): the customer's own association, balance, vouchers, records and
requests (readonly and te_admin), and, with te_admin, what the customer does in the Account
Center — agree to, reject or cancel a request, ask for a dissociation — as the customer, through
the same services. Never on a request started by the partner that minted the token: a partner
cannot agree to its own switch or unbind through an exchanged token."""
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from api.v1 import auth
from api.v1.customers import association_json, page_of
from api.v1.idempotency import idempotent
from api.v1.openapi import problems_of
from api.v1.requests import request_json
from api.v1.schemas import (
    MAX_ID,
    Approval,
    CursorLimit,
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
from customers.requests import services as services
from customers.requests.selectors import active_association_for_customer, request_for_customer, requests_for_customer
from partnercenter.pagination import KeysetPaginator

router = Router(tags=["customer token"])
Id = Path(..., ge=1, le=MAX_ID)


def record_json(record) -> dict:
    return {name: getattr(record, name) for name in (
        "id", "created_at", "event", "category", "customer_id", "actor_kind", "actor_name", "reason")}


def _own_request(token, request_pk):
    customer = token.customer
    association_request = request_for_customer(customer, request_pk)
    if services.request_expire_due(association=association_request.association):
        association_request = request_for_customer(customer, request_pk)
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
    page = page_of(paginator, params.cursor)
    return {"results": [record_json(r) for r in page.rows], "next_cursor": page.next_cursor,
            "previous_cursor": page.prev_cursor}


@router.get("/me/requests", response=RequestPage, auth=auth.customer(), operation_id="listMyRequests",
            summary="The customer's requests", openapi_extra=problems_of(s404=["invalid_cursor"]))
def list_my_requests(request, params: Query[CursorLimit]):
    customer = request.auth.customer
    qs = requests_for_customer(customer).select_related("association__customer", "requested_by")
    page = page_of(KeysetPaginator(qs, ["-id"], page_size=params.limit, scope=f"api.me.requests:{customer.pk}"),
                   params.cursor)
    return {"results": [request_json(r) for r in page.rows], "next_cursor": page.next_cursor,
            "previous_cursor": page.prev_cursor}


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
    association = active_association_for_customer(customer)
    if association is not None and services.request_expire_due(association=association):
        association = active_association_for_customer(customer)
    if association is None:
        from django.http import Http404

        raise Http404
    created = services.request_submit_dissociation(actor=customer.user, association=association, reason=data.reason)
    return Status(201, request_json(request_for_customer(customer, created.pk)))
