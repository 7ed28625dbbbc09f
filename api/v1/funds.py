"""Funds and vouchers (SPEC §4): allocate to and recover from a reseller customer, the
partner's balance and quota, its ledger; issue, recover and list vouchers — through
customers.funds, as the portal's funds pages do. The Idempotency-Key also reaches the funds
services as their own key, so money moves once even past the API's replay window."""
from decimal import Decimal

from ninja import Path, Query, Router, Status

from api.v1 import auth
from api.v1.idempotency import HEADER, idempotent
from api.v1.openapi import from_body, from_first_result, link_to, problems_of
from api.v1.paging import page_json
from api.v1.schemas import (
    MAX_ID,
    BalanceOut,
    CursorLimit,
    FundsMove,
    LedgerEntryOut,
    LedgerPage,
    VoucherFilters,
    VoucherIssue,
    VoucherOut,
    VoucherPage,
)
from customers.funds import services as funds
from customers.funds.selectors import filter_vouchers, voucher_for_member, vouchers_for
from customers.models import LedgerEntry
from customers.selectors import manager_scope, own_association_for_member
from partnercenter.pagination import KeysetPaginator

router = Router(tags=["funds"])
Id = Path(..., ge=1, le=MAX_ID)


def ledger_json(entry: LedgerEntry) -> dict:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "amount": entry.amount,
        "customer_id": entry.customer_id,
        "partner_balance_after": entry.partner_balance_after,
        "customer_balance_after": entry.customer_balance_after,
        "actor_name": entry.actor_name,
        "created_at": entry.created_at,
    }


def voucher_json(voucher) -> dict:
    customer = voucher.customer
    return {
        "id": voucher.pk,
        "customer": {"id": customer.pk, "account_name": customer.account_name, "name": customer.name},
        "amount": voucher.amount,
        "status": voucher.status,
        "expires_at": voucher.expires_at,
        "issued_at": voucher.issued_at,
        "recovered_at": voucher.recovered_at,
    }


def service_key(request) -> str | None:
    key = request.headers.get(HEADER)
    # The funds services store at most 64 characters, scoped by partner themselves.
    return ("api:" + key)[:64] if key else None


def _move(request, customer_id: int, data: FundsMove, service):
    member = request.auth.member
    association = own_association_for_member(member, customer_id)
    entry = service(
        actor=member, association=association, amount=Decimal(data.amount), idempotency_key=service_key(request),
        reason=data.reason,
    )
    return Status(201, ledger_json(entry))


@router.post(
    "/customers/{customer_id}/funds/allocate",
    response={201: LedgerEntryOut},
    auth=auth.partner("customers.allocate_funds"),
    operation_id="allocateFunds",
    summary="Allocate funds to a reseller customer",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"], links={201: [
        link_to("recoverFunds", customer_id=from_body("customer_id")),
        link_to("getCustomer", customer_id=from_body("customer_id"))]}),
)
@idempotent
def allocate_funds(request, data: FundsMove, customer_id: int = Id):
    return _move(request, customer_id, data, funds.funds_allocate)


@router.post(
    "/customers/{customer_id}/funds/recover",
    response={201: LedgerEntryOut},
    auth=auth.partner("customers.recover_funds"),
    operation_id="recoverFunds",
    summary="Recover allocated funds from a reseller customer",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"]),
)
@idempotent
def recover_funds(request, data: FundsMove, customer_id: int = Id):
    return _move(request, customer_id, data, funds.funds_recover)


@router.get(
    "/balance",
    response=BalanceOut,
    auth=auth.partner("customers.view_customer"),
    operation_id="getBalance",
    summary="The partner's balance and voucher quota",
)
def get_balance(request):
    partner = request.auth.partner
    return {"balance": partner.balance, "voucher_quota": partner.voucher_quota}


@router.get(
    "/ledger",
    response=LedgerPage,
    auth=auth.partner("customers.view_customer"),
    operation_id="listLedger",
    summary="The partner's funds ledger",
    description="Newest first. Customer managers see only their customers' rows.",
    openapi_extra=problems_of(s404=["invalid_cursor"]),
)
def list_ledger(request, params: Query[CursorLimit]):
    member = request.auth.member
    qs = LedgerEntry.objects.filter(partner_id=member.partner_id)
    scope = manager_scope(member)
    if scope is not None:
        qs = qs.filter(customer__manager_id__in=scope)
    paginator = KeysetPaginator(qs, ["-id"], page_size=params.limit, scope=f"api.ledger:{member.partner_id}")
    return page_json(paginator, params.cursor, ledger_json)


@router.post(
    "/customers/{customer_id}/vouchers",
    response={201: VoucherOut},
    auth=auth.partner("customers.issue_vouchers"),
    operation_id="issueVoucher",
    summary="Issue a voucher to a customer",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"], links={201: [
        link_to("recoverVoucher", voucher_id=from_body())]}),
)
@idempotent
def issue_voucher(request, data: VoucherIssue, customer_id: int = Id):
    member = request.auth.member
    association = own_association_for_member(member, customer_id)
    voucher = funds.voucher_issue(
        actor=member, association=association, amount=Decimal(data.amount), expires_at=data.expires_at,
        idempotency_key=service_key(request), reason=data.reason,
    )
    return Status(201, voucher_json(voucher_for_member(member, voucher.pk)))


@router.get(
    "/vouchers",
    response=VoucherPage,
    auth=auth.partner("customers.view_customer"),
    operation_id="listVouchers",
    summary="List vouchers",
    description="The portal's voucher list with its search and status filter.",
    openapi_extra=problems_of(s404=["invalid_cursor"], links={200: [
        link_to("recoverVoucher", voucher_id=from_first_result())]}),
)
def list_vouchers(request, filters: Query[VoucherFilters]):
    member = request.auth.member
    qs = filter_vouchers(vouchers_for(member).select_related("customer"), q=filters.q, status=filters.status or "")
    scope = f"api.vouchers:{member.partner_id}:{filters.q}:{filters.status or ''}"
    return page_json(KeysetPaginator(qs, ["-id"], page_size=filters.limit, scope=scope), filters.cursor, voucher_json)


@router.post(
    "/vouchers/{voucher_id}/recover",
    response=VoucherOut,
    auth=auth.partner("customers.issue_vouchers"),
    operation_id="recoverVoucher",
    summary="Recover an unused voucher",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"]),
)
@idempotent
def recover_voucher(request, voucher_id: int = Id):
    member = request.auth.member
    voucher = voucher_for_member(member, voucher_id)
    funds.voucher_recover(actor=member, voucher=voucher)
    return voucher_json(voucher_for_member(member, voucher_id))
