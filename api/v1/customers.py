"""Customers: the portal's customer list (its search, filters, sort and keyset pages), one
customer's facts, its account check, and registration of a new reseller customer (R2c)."""
from typing import Literal

from ninja import Header, Path, Query, Router, Status

from api import ratelimit, services
from api.errors import ApiError, rate_limit_unavailable, registration_limit_exceeded
from api.v1 import auth
from api.v1.idempotency import idempotent
from api.v1.openapi import from_body, from_first_result, link_to, problems_of
from api.v1.paging import page_json
from api.v1.schemas import (
    CLIENT_ID,
    MAX_ID,
    AccountCheckOut,
    CustomerDetailOut,
    CustomerFilters,
    CustomerOut,
    CustomerPage,
    CustomerRegistration,
    ManagerAssignIn,
    ManagerAssignOut,
)
from customers.checks import run_checks
from customers.funds.selectors import customer_funds_for_member
from customers.models import Association
from customers.requests.selectors import open_request_for
from customers.requests.services import request_effects
from customers.selectors import (
    active_association_for_member,
    annotate_pending_request,
    customer_list_listing,
    customer_list_rows,
    listed_association,
)
from partnercenter.clientip import client_ip
from partnercenter.pagination import KeysetPaginator

router = Router(tags=["customers"])


def customer_links(value: str) -> list[dict]:
    """From a customer to what is read and done with it."""
    return [link_to(op, customer_id=value) for op in (
        "getCustomer", "getAccountCheck", "submitRequest", "allocateFunds", "recoverFunds", "issueVoucher")]


def customer_json(association: Association) -> dict:
    customer = association.customer
    return {
        "id": customer.pk,
        "account_name": customer.account_name,
        "name": customer.name,
        "email": customer.email,
        "association_type": association.type,
        "associated_since": association.started_at,
        "registered_at": customer.registered_at,
    }


def listed_json(row) -> dict:
    customer = row.customer
    pending = None
    if row.pending_request_id:
        pending = {"id": row.pending_request_id, "kind": row.pending_request_kind,
                   "deadline": row.pending_request_deadline}
    return {
        "id": customer.id,
        "account_name": customer.account_name,
        "name": customer.name,
        "email": customer.email,
        "association_id": row.id,
        "association_type": row.type,
        "associated_since": row.started_at,
        "frozen": customer.frozen,
        "arrears": customer.arrears,
        "manager_id": customer.manager_id,
        "manager_name": customer.manager_name,
        "partner_name": row.partner_name,
        "pending_request": pending,
    }


@router.get(
    "/customers",
    response=CustomerPage,
    auth=auth.partner("customers.view_customer"),
    operation_id="listCustomers",
    summary="List customers",
    description=(
        "The portal's customer list: actively associated customers (tab=resellers: a distributor's resellers' "
        "customers, read-only), with its search, filters and sort, in pages linked by cursors. Customer "
        "managers see only their customers."
    ),
    openapi_extra=problems_of(s404=["invalid_cursor"], links={200: customer_links(from_first_result())}),
)
def list_customers(request, filters: Query[CustomerFilters]):
    member = request.auth.member
    tab = "resellers" if filters.tab == "resellers" and member.partner.is_distributor else "mine"
    data = filters.model_dump()
    # An id that is not one of the partner's managers matches no row of the scoped list.
    rows, ordering = customer_list_rows(member, tab=tab, filters=data)
    listing = customer_list_listing(annotate_pending_request(rows), tab=tab)
    scope = "api.customers:" + ":".join(
        str(part) for part in (member.partner_id, tab, filters.q, filters.type, filters.status, filters.manager,
                               filters.pending, ",".join(ordering))
    )
    paginator = KeysetPaginator(listing, ordering, page_size=filters.limit, scope=scope, row=listed_association)
    return page_json(paginator, filters.cursor, listed_json)


@router.post(
    "/customers",
    response={201: CustomerOut},
    auth=auth.partner("customers.invite_customers"),
    operation_id="registerCustomer",
    summary="Register a customer",
    description=(
        "Creates the customer's account and associates it with the partner in reseller type. Registration "
        "attempts are limited per client and period, across all servers. Needs the permission to invite "
        "customers."
    ),
    openapi_extra=problems_of(
        idempotent=True, s409=["account_name_taken", "email_taken"], s429=["registration_limit_exceeded"],
        s503=["rate_limit_unavailable"], links={201: customer_links(from_body())},
    ),
)
@idempotent
def register_customer(
    request,
    data: CustomerRegistration,
    x_client_id: str | None = Header(
        None, alias="X-Client-Id", max_length=128, pattern=CLIENT_ID,
        description="Identifies the client the registration comes from; without it, the caller's IP address.",
    ),
):
    token = request.auth
    # SPEC R29: slots per credential, per client id and per client address, given back when the
    # registration is refused or fails.
    key = f"key:{token.api_key_id}" if token.api_key_id else f"member:{token.member_id}"
    try:
        with ratelimit.registration_slots(key=key, client_id=x_client_id, ip=client_ip(request)):
            association = services.customer_register(actor=token.member, partner=token.partner, **data.model_dump())
    except ratelimit.LimitExceeded as refused:
        raise registration_limit_exceeded(refused.retry_after) from None
    except ratelimit.Unavailable:
        raise rate_limit_unavailable() from None
    return Status(201, customer_json(association))


Id = Path(..., ge=1, le=MAX_ID)


def association_json(association, member) -> dict | None:
    if association is None:
        return None
    partner = association.partner
    return {
        "id": association.pk,
        "type": association.type,
        "partner": {"id": partner.pk, "account_name": partner.account_name, "name": partner.name},
        "own": association.partner_id == member.partner_id,
        "origin": association.origin,
        "started_at": association.started_at,
    }


@router.get(
    "/customers/{customer_id}",
    response=CustomerDetailOut,
    auth=auth.partner("customers.view_customer"),
    operation_id="getCustomer",
    summary="Read a customer",
    description=(
        "Account facts, the current association, the open request with its deadline, balances, and this "
        "partner's latest ledger rows and vouchers for the customer, as the portal's customer page shows them."
    ),
    openapi_extra=problems_of(s404=["not_found"]),
)
def get_customer(request, customer_id: int = Id):
    from api.v1.funds import ledger_json, voucher_json
    from api.v1.requests import request_json

    member = request.auth.member
    # The customer through its active association, in one statement; whether the member may see
    # it is worked out on that row (a visible customer has one: customers_visible_to).
    association = active_association_for_member(member, customer_id)
    customer = association.customer
    pending = open_request_for(association)
    if pending is not None:
        pending.association = association  # the request's JSON names the customer, without reading it again
    shown = customer_funds_for_member(user=member, customer=customer)
    return {
        **{name: getattr(customer, name) for name in (
            "account_name", "name", "email", "registered_at", "frozen", "arrears", "postpaid", "invoice_owed",
            "special_contract", "enterprise_role", "financially_hosted", "cash_balance", "cash_withdraw_only",
            "allocated_balance", "manager_id",
        )},
        "id": customer.pk,
        "association": association_json(association, member),
        "pending_request": request_json(pending) if pending is not None else None,
        "ledger": [ledger_json(e) for e in shown["funds_ledger"]],
        "vouchers": [voucher_json(v) for v in shown["funds_vouchers"]],
    }


@router.get(
    "/customers/{customer_id}/checks",
    response=AccountCheckOut,
    auth=auth.partner("customers.view_customer"),
    operation_id="getAccountCheck",
    summary="The account check of a switch or unbind",
    description=(
        "Every check that guards the action for this customer, passed or not, with its message, its advice "
        "(what must be done), who can act on it (who_acts) and, for a cooldown, the moment it clears by itself "
        "(clears_at); and the effects completing the request would have, with this customer's amounts (the notes "
        "of the portal's consent page). Only for the partner's own customers."
    ),
    openapi_extra=problems_of(s404=["not_found"]),
)
def get_account_check(request, action: Literal["switch", "unbind"], customer_id: int = Id):
    from api.v1.requests import association_for

    association = association_for(request.auth.member, customer_id)
    results = run_checks(association=association, action=action)
    return {
        "action": action,
        "passed": all(r.passed for r in results),
        "checks": [
            {"code": r.code, "title": str(r.title), "passed": r.passed, "message": r.message, "advice": r.advice,
             "who_acts": list(r.who_acts), "clears_at": r.available_on}
            for r in results
        ],
        "effects": [str(e) for e in request_effects(association=association, kind=action)],
        "allocated_balance": association.customer.allocated_balance,
        "cash_balance": association.customer.cash_balance,
    }


@router.post(
    "/customer-managers",
    response=ManagerAssignOut,
    auth=auth.partner("customers.view_customer", "organization.manage_members"),
    operation_id="assignCustomerManager",
    summary="Give customers a customer manager (or none)",
    description="All or nothing: if any customer is no longer yours to manage, nothing changes (409).",
    openapi_extra=problems_of(idempotent=True),
)
@idempotent
def assign_customer_manager(request, data: ManagerAssignIn):
    from django.utils.datastructures import MultiValueDict

    from organization.member_forms import CustomerManagerAssignForm
    from organization.services import customer_manager_assign

    member = request.auth.member
    form = CustomerManagerAssignForm(
        MultiValueDict({"customers": [str(i) for i in data.customer_ids],
                        "manager": [str(data.manager_id) if data.manager_id else ""]}),
        actor=member,
    )
    if not form.is_valid():
        # Well-formed ids the portal's form refuses (a member who is not an assignable
        # manager): a refused rule, like the service's own refusals.
        detail = " ".join(m for errors in form.errors.values() for m in errors)
        raise ApiError(409, "manager_not_assignable", detail,
                       checks=[{"code": "manager_not_assignable", "detail": detail}])
    changed = customer_manager_assign(
        actor=member, customer_ids=form.cleaned_data["customers"], manager=form.cleaned_data["manager"]
    )
    return {"changed": changed}
