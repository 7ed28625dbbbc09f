"""Labels of the values an operation record keeps in ``before`` and ``after``, for the record
detail page: people read "Partner balance", not ``partner_balance``, in either language.

A service that records a new key adds its label here; ``tests/test_record_field_labels.py``
finds every key the services write and fails on one without a label. The operators' edits of
a customer's or partner's facts record the model fields they changed; those take the model
field's own ``verbose_name``."""
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from audit.events import Event

FIELD_LABELS = {
    "account_name": _("Account name"),
    "amount": _("Amount"),
    "api_key": _("API key"),
    "budget_change": _("Budget change"),
    "cash_withdraw_only": _("Own cash balance is withdraw-only"),
    "closed_by_request": _("Closed by request"),
    "customer_balance": _("Customer's allocated balance"),
    "deadline": _("Deadline"),
    "description": _("Description"),
    "display_name": _("Display name"),
    "email": _("E-mail"),
    "end_reason": _("How it ended"),
    "expected_amount": _("Expected amount"),
    "expected_close": _("Expected close"),
    "expires_at": _("Valid until"),
    "failed_checks": _("Failed checks"),
    "freeze_granted": _("May freeze its customers"),
    "freeze_on_exhaustion": _("Freeze on budget exhaustion"),
    "frozen": _("Frozen"),
    "id": _("ID"),
    "invitation": _("Invitation"),
    "is_active": _("Active"),
    "kind": _("Kind"),
    "ledger_entry": _("Ledger entry"),
    "manager": _("Customer manager"),
    "member": _("Member"),
    "member_name": _("Member user name"),
    "mobile": _("Mobile"),
    "month": _("Month"),
    "month_spend": _("Month-to-date spend"),
    "monthly_budget": _("Monthly budget"),
    "name": _("Name"),
    "operation_protection": _("Operation protection"),
    "origin": _("How it began"),
    "partner_balance": _("Partner balance"),
    "percent": _("Budget used (%)"),
    "permissions": _("Permissions"),
    "prefix": _("Key prefix"),
    "project": _("Project"),
    "reseller": _("Reseller"),
    "revoked": _("Revoked"),
    "role": _("Role"),
    "roles": _("Roles"),
    "spend_month": _("Spend month"),
    "start_frozen_until_budget": _("Start frozen until the first budget"),
    "status": _("Status"),
    "supervises": _("Supervises"),
    "supervisor": _("Supervisor"),
    "target_type": _("Target type"),
    "time_zone": _("Time zone"),
    "token_id": _("Token"),
    "type": _("Association type"),
    "usage_posting": _("Usage posting"),
    "voucher": _("Voucher"),
    "voucher_quota": _("Voucher quota"),
    "vouchers": _("Vouchers"),
}

# Events that record whichever model fields an operator changed, and the model they belong to.
MODEL_FIELD_EVENTS = {
    Event.CUSTOMER_FACTS_UPDATED: "customers.Customer",
    Event.PARTNER_UPDATED: "organization.Partner",
}


def field_label(key: str, *, event: str = "") -> str:
    """The label of ``key`` in a record of ``event``; the key itself only for a key no
    service writes (an old record, say)."""
    model = MODEL_FIELD_EVENTS.get(event)
    if model is not None:
        try:
            return capfirst(apps.get_model(model)._meta.get_field(key).verbose_name)
        except FieldDoesNotExist:
            pass
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key
