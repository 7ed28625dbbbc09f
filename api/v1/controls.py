"""Reseller controls (issue 20, SPEC R30–R31): a customer's freeze and budget, freezing and
unfreezing, setting the monthly budget — through customers.controls, as the portal's pages do —
and the vendor billing system's usage posting (its own key, no partner token)."""
import hmac
from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.security.http import HttpBearer

from api.auth import TOKEN_PREFIXES
from api.errors import ApiError, permission_denied, unauthorized
from api.v1 import auth
from api.v1.idempotency import idempotent
from api.v1.openapi import problems_of
from api.v1.paging import page_json
from api.v1.schemas import MAX_ID, TEXT, Amount, BodyId, CursorLimit, Input
from customers.controls import batches
from customers.controls import services as controls
from customers.controls.selectors import (
    batch_for_member,
    batch_manager,
    budget_association,
    controllable_association,
    controls_summary,
    freezable_association,
)
from customers.models import BatchRow, Customer
from partnercenter.pagination import KeysetPaginator

router = Router(tags=["controls"])
Id = Path(..., ge=1, le=MAX_ID)
FREEZE = "customers.freeze_customers"
BUDGETS = "customers.manage_budgets"


class FreezeIn(Input):
    reason: str = Field(min_length=1, max_length=controls.REASON_MAX_LENGTH, pattern=TEXT)


class BudgetIn(Input):
    amount: Amount
    reason: str = Field("", max_length=controls.REASON_MAX_LENGTH, pattern=TEXT)
    unfreeze: bool = Field(False, description="Also lift the partner's freeze of the account in the same step.")


class UsageIn(Input):
    amount: Amount
    at: datetime | None = Field(None, strict=False, description="When the usage happened; now when left out.")
    reference: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$",
                                  description="The billing system's id of this usage: posting it twice counts once.")


class ControlsOut(Schema):
    customer_id: int
    frozen: bool
    frozen_by: str = Field(description='"partner", "vendor" or "" when not frozen.')
    frozen_by_name: str
    frozen_at: datetime | None
    frozen_reason: str
    monthly_budget: Decimal | None
    month_to_date_spend: Decimal
    budget_used_percent: int | None


class UsageOut(Schema):
    id: int
    customer_id: int
    amount: Decimal
    month: str
    replayed: bool


def controls_json(customer: Customer) -> dict:
    summary = controls_summary(customer)
    return {
        "customer_id": customer.pk,
        "frozen": customer.frozen,
        "frozen_by": customer.frozen_source,
        "frozen_by_name": customer.frozen_by_name,
        "frozen_at": customer.frozen_at,
        "frozen_reason": customer.frozen_reason,
        "monthly_budget": customer.monthly_budget,
        "month_to_date_spend": summary.spend,
        "budget_used_percent": summary.percent,
    }


@router.get(
    "/customers/{customer_id}/controls",
    response=ControlsOut,
    auth=auth.partner("customers.view_customer"),
    operation_id="getCustomerControls",
    summary="A customer's freeze and monthly budget",
    openapi_extra=problems_of(s404=["not_found"]),
)
def get_controls(request, customer_id: int = Id):
    return controls_json(controllable_association(request.auth.member, customer_id).customer)


def _controls_post(path: str, *, permission: str, operation_id: str, summary: str, description: str | None = None):
    """The route of an action on one customer's controls: a POST answering the customer's
    controls, idempotent, a 404 for a customer the member may not control."""
    return router.post(path, response=ControlsOut, auth=auth.partner(permission), operation_id=operation_id,
                       summary=summary, description=description,
                       openapi_extra=problems_of(idempotent=True, s404=["not_found"]))


def _act(request, customer_id: int, association_of, service, **values) -> dict:
    """``service`` on the customer as ``association_of`` finds it for the member (its scope and
    access rule), answered with the customer's controls; a refused rule is a 409 (problems)."""
    member = request.auth.member
    return controls_json(service(actor=member, association=association_of(member, customer_id), **values))


@_controls_post(
    "/customers/{customer_id}/freeze", permission=FREEZE, operation_id="freezeCustomer",
    summary="Freeze a reseller customer's account",
    description="Refused (409) for referral customers and for an account that is already frozen. A reseller "
    "needs its distributor's grant (403 without it).",
)
@idempotent
def freeze_customer(request, data: FreezeIn, customer_id: int = Id):
    return _act(request, customer_id, freezable_association, controls.customer_freeze, reason=data.reason)


@_controls_post(
    "/customers/{customer_id}/unfreeze", permission=FREEZE, operation_id="unfreezeCustomer",
    summary="Lift a partner freeze of a reseller customer's account",
    description="A vendor freeze is lifted only by the vendor (409).",
)
@idempotent
def unfreeze_customer(request, data: FreezeIn, customer_id: int = Id):
    return _act(request, customer_id, freezable_association, controls.customer_unfreeze, reason=data.reason)


@_controls_post(
    "/customers/{customer_id}/budget", permission=BUDGETS, operation_id="setCustomerBudget",
    summary="Set or change a reseller customer's monthly budget",
)
@idempotent
def set_budget(request, data: BudgetIn, customer_id: int = Id):
    return _act(request, customer_id, budget_association, controls.customer_budget_set,
                amount=Decimal(data.amount), reason=data.reason, unfreeze=data.unfreeze)


class BillingKey(HttpBearer):
    """The vendor's billing system: the bearer key of ``PC_BILLING_API_KEY`` (none set: the
    operation is closed). A partner's or customer's token is not it."""

    perms: tuple[str, ...] = ()  # no member, so no role permissions

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _sep, key = header.partition(" ")
        expected = settings.PARTNER_CENTER["BILLING_API_KEY"]
        if scheme.lower() != "bearer" or not key:
            raise unauthorized("not_authenticated", _("Send the billing system's key: Authorization: Bearer <key>."))
        if not expected or not hmac.compare_digest(key.encode(), expected.encode()):
            if key.startswith(tuple(TOKEN_PREFIXES.values())):
                raise ApiError(403, "billing_key_required", _("Only the vendor's billing system may post usage."))
            raise unauthorized("token_invalid", _("This key is not valid."))
        return "billing"

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the work
        raise NotImplementedError


@router.post(
    "/billing/customers/{customer_id}/usage",
    response={201: UsageOut, 200: UsageOut},
    auth=BillingKey(),
    operation_id="postCustomerUsage",
    summary="The vendor's billing system posts a customer's usage",
    description="Counts towards the customer's month-to-date spend in its time zone. At 80 % and 100 % of a "
    "reseller customer's budget the partner is notified; at 100 % a partner that chose so has the account "
    "frozen. A second posting with the same reference changes nothing (200).",
    openapi_extra=problems_of(s403=["billing_key_required"], s404=["not_found"]),
)
def post_usage(request, data: UsageIn, customer_id: int = Id):
    customer = get_object_or_404(Customer, pk=customer_id)
    posting = controls.customer_usage_post(
        actor=None, customer=customer, amount=Decimal(data.amount), at=data.at, reference=data.reference
    )
    body = {"id": posting.pk, "customer_id": customer.pk, "amount": posting.amount, "month": str(posting.month),
            "replayed": posting.replayed}
    return Status(200 if posting.replayed else 201, body)


# Batches ------------------------------------------------------------------------------------------


class BatchIn(Input):
    action: Literal["freeze", "unfreeze", "budget", "manager"]
    customer_ids: list[BodyId] = Field(min_length=1, max_length=1_000_000)
    reason: str = Field("", max_length=controls.REASON_MAX_LENGTH, pattern=TEXT)
    amount: Amount | None = None
    manager_id: BodyId | None = None


class ReasonCount(Schema):
    reason: str
    count: int


class PreviewOut(Schema):
    total: int
    changing: int
    unchanged: int
    reasons: list[ReasonCount]


class BatchOut(Schema):
    id: int
    action: str
    status: str
    total: int
    changed: int
    refused: int
    pending: int


class BatchRowOut(Schema):
    customer_id: int
    account_name: str
    outcome: str
    message: str
    processed_at: datetime | None


class BatchRowPage(Schema):
    results: list[BatchRowOut]
    next_cursor: str | None
    previous_cursor: str | None


def _batch_args(member, data: BatchIn) -> dict:
    if not member.has_perm(batches.PERMISSIONS[data.action]):
        raise permission_denied()
    manager = None
    if data.action == "manager" and data.manager_id is not None:
        manager = batch_manager(member, data.manager_id)
        if manager is None:
            raise ApiError(404, "not_found", _("There is no such member in your organization."))
    return {"action": data.action, "customer_ids": data.customer_ids, "reason": data.reason,
            "amount": Decimal(data.amount) if data.amount is not None else None, "manager": manager}


def batch_json(batch) -> dict:
    counts = batches.progress(batch)
    return {"id": batch.pk, "action": batch.action, "status": batch.status, "total": batch.total,
            "changed": counts["changed"], "refused": counts["refused"], "pending": counts["pending"]}


@router.post(
    "/batches/preview",
    response=PreviewOut,
    auth=auth.partner("customers.view_customer"),
    operation_id="previewBatch",
    summary="What a batch action would change, before anything happens",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"]),
)
@idempotent
def preview_batch(request, data: BatchIn):
    preview = batches.batch_preview(actor=request.auth.member, **_batch_args(request.auth.member, data))
    return {"total": preview.total, "changing": preview.changing, "unchanged": preview.unchanged,
            "reasons": [{"reason": r, "count": n} for r, n in preview.reasons.most_common()]}


@router.post(
    "/batches",
    response={201: BatchOut},
    auth=auth.partner("customers.view_customer"),
    operation_id="createBatch",
    summary="Freeze, unfreeze, budget or give a manager to many customers at once",
    description="Each customer is checked and changed on its own. Up to a few hundred rows are applied before "
    "the answer (status done); a larger batch is queued and runs in the background: read its progress with "
    "getBatch.",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"]),
)
@idempotent
def create_batch(request, data: BatchIn):
    member = request.auth.member
    batch = batches.batch_start(actor=member, **_batch_args(member, data))
    return Status(201, batch_json(batch_for_member(member, batch.pk, progress=True)))


@router.get(
    "/batches/{batch_id}",
    response=BatchOut,
    auth=auth.partner("customers.view_customer"),
    operation_id="getBatch",
    summary="A batch's status and progress",
    openapi_extra=problems_of(s404=["not_found"]),
)
def get_batch(request, batch_id: int = Id):
    return batch_json(batch_for_member(request.auth.member, batch_id, progress=True))


@router.get(
    "/batches/{batch_id}/rows",
    response=BatchRowPage,
    auth=auth.partner("customers.view_customer"),
    operation_id="listBatchRows",
    summary="Every row of a batch with its outcome",
    openapi_extra=problems_of(s404=["not_found", "invalid_cursor"]),
)
def list_batch_rows(request, params: Query[CursorLimit], batch_id: int = Id):
    batch = batch_for_member(request.auth.member, batch_id)
    qs = BatchRow.objects.filter(batch=batch).select_related("customer")
    paginator = KeysetPaginator(qs, ["id"], page_size=params.limit, scope=f"api.batch:{batch.pk}")
    return page_json(paginator, params.cursor, batch_row_json)


def batch_row_json(row: BatchRow) -> dict:
    return {
        "customer_id": row.customer_id, "account_name": row.customer.account_name if row.customer else "",
        "outcome": row.outcome, "message": row.message, "processed_at": row.processed_at,
    }


@router.post(
    "/batches/{batch_id}/cancel",
    response=BatchOut,
    auth=auth.partner("customers.view_customer"),
    operation_id="cancelBatch",
    summary="Stop a running batch (rows already changed stay changed)",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"]),
)
@idempotent
def cancel_batch(request, batch_id: int = Id):
    member = request.auth.member
    batches.batch_cancel(actor=member, batch=batch_for_member(member, batch_id))
    return batch_json(batch_for_member(member, batch_id, progress=True))


@router.post(
    "/batches/{batch_id}/resume",
    response=BatchOut,
    auth=auth.partner("customers.view_customer"),
    operation_id="resumeBatch",
    summary="Go on with a cancelled batch, or one whose worker was lost",
    openapi_extra=problems_of(idempotent=True, s404=["not_found"]),
)
@idempotent
def resume_batch(request, batch_id: int = Id):
    member = request.auth.member
    batches.batch_resume(actor=member, batch=batch_for_member(member, batch_id))
    return batch_json(batch_for_member(member, batch_id, progress=True))
