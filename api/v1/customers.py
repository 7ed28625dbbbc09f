"""Customers: the portal's customer list (its search, filters, sort and keyset pages), one
customer's facts, its account check, and registration of a new reseller customer (R2c)."""
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Status

from api import ratelimit, services
from api.errors import ApiError
from api.v1 import auth
from api.v1.idempotency import idempotent
from api.v1.openapi import problems_of
from api.v1.schemas import CLIENT_ID, CustomerFilters, CustomerOut, CustomerPage, CustomerRegistration
from customers.models import Association
from customers.selectors import (
    annotate_pending_request,
    customer_list_listing,
    customer_list_rows,
    listed_association,
)
from partnercenter.pagination import InvalidCursor, KeysetPaginator

router = Router(tags=["customers"])


def invalid_cursor() -> ApiError:
    return ApiError(404, "invalid_cursor", _("This cursor does not belong to this list. Start again without a cursor."))


def page_of(paginator: KeysetPaginator, cursor: str):
    try:
        return paginator.page(cursor or None)
    except InvalidCursor:
        raise invalid_cursor() from None


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
    openapi_extra=problems_of(s404=["invalid_cursor"]),
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
    page = page_of(paginator, filters.cursor)
    return {
        "results": [listed_json(row) for row in page.rows],
        "next_cursor": page.next_cursor,
        "previous_cursor": page.prev_cursor,
    }


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
        idempotent=True, s409=["account_name_taken", "email_taken"], s429=["registration_limit_exceeded"]
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
    client = "id:" + x_client_id if x_client_id else "ip:" + (request.META.get("REMOTE_ADDR") or "")
    verdict = ratelimit.registration_attempt(client)
    if not verdict.allowed:
        raise ApiError(
            429,
            "registration_limit_exceeded",
            _(
                "The number of registrations from your client has exceeded the limit. "
                "Please try again later or register from another client."
            ),
            headers={"Retry-After": str(verdict.retry_after)},
        )
    token = request.auth
    association = services.customer_register(actor=token.member, partner=token.partner, **data.model_dump())
    return Status(201, customer_json(association))
