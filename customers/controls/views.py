"""Reseller controls in the partner portal: freeze, unfreeze and the monthly budget of a
customer (a form page and its POST each), the partner's control settings and a distributor's
grants to its resellers."""
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from customers.controls import batches
from customers.controls import services as controls
from customers.controls.export import batch_csv_response
from customers.controls.forms import BatchForm, BudgetForm, ControlsSettingsForm, FreezeForm
from customers.controls.rows import BATCH_ROW_VALUES, batch_rows_context
from customers.controls.selectors import (
    batch_for_member,
    batch_manager,
    budget_association,
    budget_history,
    controls_summary,
    freezable_association,
    matching_customer_ids,
    may_unfreeze,
    resellers_with_grants,
)
from customers.models import Batch
from customers.selectors import customer_list_managers
from organization.protection import operation_protected
from partnercenter.access import member_permission_required
from partnercenter.actions import form_action, post_action
from partnercenter.money import format_amount

FREEZE = "customers.freeze_customers"
BUDGETS = "customers.manage_budgets"
SETTINGS = "organization.manage_settings"
# The result page lists this many rows; the CSV has them all.
RESULT_ROWS_SHOWN = 500


def _customer_url(customer) -> str:
    return reverse("customers:detail", args=[customer.pk]) + "#controls"


@dataclass(frozen=True)
class _FreezeAction:
    """What tells freezing from unfreezing on their pages: the title (and button), the rule
    the page explains before the form, the service and the message after it."""

    title: str
    refusal: Callable
    service: Callable
    done: str


FREEZE_ACTIONS = {
    "freeze": _FreezeAction(gettext_lazy("Freeze account"), controls.freeze_refusal, controls.customer_freeze,
                            gettext_lazy("The account of %(customer)s is frozen.")),
    "unfreeze": _FreezeAction(gettext_lazy("Unfreeze account"), controls.unfreeze_refusal,
                              controls.customer_unfreeze, gettext_lazy("The account of %(customer)s is unfrozen.")),
}


def _freeze_page(request, association, form, *, action: str):
    kind = FREEZE_ACTIONS[action]
    return render(
        request,
        "customers/controls/action_form.html",
        {
            "title": kind.title,
            "association": association,
            "customer": association.customer,
            "summary": controls_summary(association.customer),
            "form": form,
            "refusal": kind.refusal(partner=request.user.partner, association=association),
            "submit_url": reverse(f"customers:controls_{action}_submit", args=[association.customer_id]),
            "submit_label": kind.title,
        },
    )


def _freeze_submit(request, pk, *, action: str):
    association = freezable_association(request.user, pk)
    form = FreezeForm(request.POST)
    kind = FREEZE_ACTIONS[action]
    return form_action(
        request,
        form,
        act=lambda data: kind.service(actor=request.user, association=association, reason=data["reason"]),
        success=kind.done % {"customer": association.customer.name},
        done=lambda customer: redirect(_customer_url(customer)),
        page=lambda: _freeze_page(request, association, form, action=action),
    )


@require_GET
@member_permission_required(FREEZE)
def freeze_form(request, pk, action: str):
    """The freeze or the unfreeze page (``action`` from the URL), its form posting to the
    action's own view below."""
    return _freeze_page(request, freezable_association(request.user, pk), FreezeForm(), action=action)


# Two views, not one with the action from the URL: operation protection names what it
# confirms by the view (organization.protection.PROTECTED_ACTIONS).
@require_POST
@member_permission_required(FREEZE)
@operation_protected
def freeze(request, pk):
    return _freeze_submit(request, pk, action="freeze")


@require_POST
@member_permission_required(FREEZE)
@operation_protected
def unfreeze(request, pk):
    return _freeze_submit(request, pk, action="unfreeze")


def _budget_page(request, association, form):
    customer = association.customer
    return render(
        request,
        "customers/controls/budget_form.html",
        {
            "title": _("Set monthly budget"),
            "association": association,
            "customer": customer,
            "summary": controls_summary(customer),
            "history": budget_history(customer, partner=request.user.partner),
            "form": form,
            "refusal": controls.budget_refusal(partner=request.user.partner, association=association),
            "submit_url": reverse("customers:controls_budget_submit", args=[customer.pk]),
            "submit_label": _("Set monthly budget"),
        },
    )


@require_GET
@member_permission_required(BUDGETS)
def budget_form(request, pk):
    association = budget_association(request.user, pk)
    unfreezable = may_unfreeze(request.user, association)
    initial = {"amount": association.customer.monthly_budget, "unfreeze": unfreezable}
    return _budget_page(request, association, BudgetForm(initial=initial, may_unfreeze=unfreezable))


@require_POST
@member_permission_required(BUDGETS)
def budget(request, pk):
    association = budget_association(request.user, pk)
    form = BudgetForm(request.POST, may_unfreeze=may_unfreeze(request.user, association))
    return form_action(
        request,
        form,
        act=lambda data: controls.customer_budget_set(
            actor=request.user, association=association, amount=data["amount"], reason=data["reason"],
            unfreeze=data.get("unfreeze", False),
        ),
        success=lambda customer: _("The monthly budget of %(customer)s is now %(amount)s.")
        % {"customer": customer.name, "amount": format_amount(customer.monthly_budget)},
        done=lambda customer: redirect(_customer_url(customer)),
        page=lambda: _budget_page(request, association, form),
    )


@member_permission_required(SETTINGS)
@operation_protected
def controls_settings(request):
    partner = request.user.partner
    current = controls.controls_of(partner)
    initial = {"start_frozen_until_budget": current.start_frozen_until_budget,
               "freeze_on_exhaustion": current.freeze_on_exhaustion,
               "granted_resellers": [r for r, granted in resellers_with_grants(partner) if granted]}
    form = ControlsSettingsForm(request.POST or None, initial=initial, partner=partner)

    def page():
        return render(request, "customers/controls/settings.html", {"form": form})

    if request.method != "POST":
        return page()
    return form_action(
        request,
        form,
        act=lambda data: controls.controls_settings_update(
            actor=request.user, start_frozen_until_budget=data["start_frozen_until_budget"],
            freeze_on_exhaustion=data["freeze_on_exhaustion"], granted_resellers=data.get("granted_resellers"),
        ),
        success=_("The reseller controls settings are saved."),
        done=lambda _row: redirect("customers:controls_settings"),
        page=page,
    )


# Batches ------------------------------------------------------------------------------------------


def _batch_selection(request, form) -> list[int]:
    data = form.cleaned_data
    if not data.get("all_matching"):
        return list(dict.fromkeys(data.get("customers") or []))
    return matching_customer_ids(request.user, QueryDict(data.get("query") or ""), limit=batches.max_rows() + 1)


def _batch_params(request, form) -> dict:
    data = form.cleaned_data
    manager = None
    if data.get("action") == Batch.Action.MANAGER and data.get("manager"):
        manager = batch_manager(request.user, data["manager"])
    return {"action": data["action"], "reason": data.get("reason") or "", "amount": data.get("amount"),
            "manager": manager}


@require_POST
@member_permission_required("customers.view_customer")
@operation_protected
def batch(request):
    """The batch page: the action's values, then a preview of what will change, then apply."""
    user = request.user
    action = request.POST.get("action")
    if action in batches.PERMISSIONS and not user.has_perm(batches.PERMISSIONS[action]):
        raise PermissionDenied
    form = BatchForm(request.POST, managers=customer_list_managers(user))
    preview = error = None
    ids: list[int] = []
    if form.is_valid():
        ids = _batch_selection(request, form)
        params = _batch_params(request, form)
        step = request.POST.get("step")
        try:
            if step == "apply":
                created = batches.batch_start(actor=user, customer_ids=ids, **params)
                return redirect("customers:batch_detail", pk=created.pk)
            if step == "preview":
                preview = batches.batch_preview(actor=user, customer_ids=ids, **params)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return render(request, "customers/controls/batch.html", {
        "form": form, "preview": preview, "error": error, "chosen": len(ids),
        "action_label": Batch.Action(action).label if action in Batch.Action.values else "",
        "needs_reason": action in (Batch.Action.FREEZE, Batch.Action.UNFREEZE),
        "needs_amount": action == Batch.Action.BUDGET, "needs_manager": action == Batch.Action.MANAGER,
    })


@require_GET
@member_permission_required("customers.view_customer")
def batch_detail(request, pk):
    found = batch_for_member(request.user, pk, progress=True)
    # Each row as its values (customer id, name, account name, outcome, message), not a row and
    # a customer instance each: 500 rows made 1,000 models, most of the page's time.
    rows = list(
        found.rows.order_by("id").values_list(*BATCH_ROW_VALUES)[:RESULT_ROWS_SHOWN]
    )
    return render(request, "customers/controls/batch_detail.html", {
        "batch": found, "progress": batches.progress(found), "rows": rows, "shown": RESULT_ROWS_SHOWN,
        "row_context": batch_rows_context(),
        "running": found.status in (Batch.Status.QUEUED, Batch.Status.RUNNING),
        "can_resume": batches.can_resume(found),
    })


@require_GET
@member_permission_required("customers.view_customer")
def batch_csv(request, pk):
    found = batch_for_member(request.user, pk)
    return batch_csv_response(found)


@require_POST
@member_permission_required("customers.view_customer")
def batch_cancel(request, pk):
    return _batch_action(request, pk, batches.batch_cancel,
                         _("The batch is cancelled. Rows already changed stay changed."))


@require_POST
@member_permission_required("customers.view_customer")
def batch_resume(request, pk):
    return _batch_action(request, pk, batches.batch_resume, _("The batch goes on with the rows still pending."))


def _batch_action(request, pk, service, success):
    """A button on the batch's page: ``service`` on the member's batch, back to its page."""
    found = batch_for_member(request.user, pk)
    return post_action(request, act=lambda: service(actor=request.user, batch=found), success=success,
                       done=lambda: redirect("customers:batch_detail", pk=found.pk))
