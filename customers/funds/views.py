"""Funds and voucher pages of the partner portal: allocate, recover, issue a voucher (each a
form page and a POST that calls one service), the partner's voucher list, and recovering a
voucher."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from customers.funds import services as funds
from customers.funds.forms import FundsForm, VoucherFilterForm, VoucherIssueForm
from customers.funds.rows import VOUCHER_ROW_FIELDS, funds_rows_context
from customers.funds.selectors import filter_vouchers, voucher_for_member, vouchers_for
from customers.models import Association
from customers.selectors import own_association_for_member
from organization.protection import operation_protected
from partnercenter.access import member_permission_required
from partnercenter.actions import form_action, post_action
from partnercenter.money import format_amount
from partnercenter.pagination import filter_data, filtered, list_page


def _customer_url(customer) -> str:
    return reverse("customers:detail", args=[customer.pk]) + "#funds"


def _funds_page(request, association: Association, form, *, action: str):
    partner = association.partner
    customer = association.customer
    if action == "allocate":
        title = _("Allocate funds")
        summary = [
            (_("Your balance"), partner.balance),
            (_("Customer's allocated balance"), customer.allocated_balance),
        ]
    else:
        title = _("Recover funds")
        summary = [
            (_("Customer's allocated balance"), customer.allocated_balance),
            (_("Your balance"), partner.balance),
        ]
    return render(
        request,
        "customers/funds/action_form.html",
        {
            "title": title,
            "association": association,
            "customer": customer,
            "summary": summary,
            "form": form,
            "refusal": funds.funds_refusal(association),
            "submit_url": reverse(f"customers:funds_{action}_submit", args=[customer.pk]),
            "submit_label": title,
        },
    )


_SUCCESS = {
    "allocate": gettext_lazy("Allocated %(amount)s to %(customer)s. Your balance is now %(balance)s."),
    "recover": gettext_lazy("Recovered %(amount)s from %(customer)s. Your balance is now %(balance)s."),
}


def _back_to_customer(request, association: Association, moved):
    """After a funds form: the customer's funds, and a word when the same form (its
    idempotency key) had already been submitted."""
    if moved.replayed:
        messages.info(request, _("This form had already been submitted; it took effect only once."))
    return redirect(_customer_url(association.customer))


def _funds_submit(request, pk, *, action: str):
    association = own_association_for_member(request.user, pk)
    form = FundsForm(request.POST)
    service = funds.funds_allocate if action == "allocate" else funds.funds_recover
    return form_action(
        request,
        form,
        act=lambda data: service(
            actor=request.user,
            association=association,
            amount=data["amount"],
            idempotency_key=data["token"],
            reason=data["reason"],
        ),
        success=lambda entry: _SUCCESS[action]
        % {
            "amount": format_amount(entry.amount),
            "customer": association.customer.name,
            "balance": format_amount(entry.partner_balance_after),
        },
        done=lambda entry: _back_to_customer(request, association, entry),
        page=lambda: _funds_page(request, association, form, action=action),
    )


@require_GET
@member_permission_required("customers.allocate_funds")
def allocate_form(request, pk):
    return _funds_page(request, own_association_for_member(request.user, pk), FundsForm(), action="allocate")


@require_POST
@member_permission_required("customers.allocate_funds")
@operation_protected
def allocate(request, pk):
    return _funds_submit(request, pk, action="allocate")


@require_GET
@member_permission_required("customers.recover_funds")
def recover_form(request, pk):
    return _funds_page(request, own_association_for_member(request.user, pk), FundsForm(), action="recover")


@require_POST
@member_permission_required("customers.recover_funds")
@operation_protected
def recover(request, pk):
    return _funds_submit(request, pk, action="recover")


def _voucher_page(request, association: Association, form):
    return render(
        request,
        "customers/funds/action_form.html",
        {
            "title": _("Issue voucher"),
            "association": association,
            "customer": association.customer,
            "summary": [(_("Your voucher quota"), association.partner.voucher_quota)],
            "form": form,
            "refusal": None,
            "submit_url": reverse("customers:voucher_issue_submit", args=[association.customer_id]),
            "submit_label": _("Issue voucher"),
        },
    )


@require_GET
@member_permission_required("customers.issue_vouchers")
def voucher_issue_form(request, pk):
    return _voucher_page(request, own_association_for_member(request.user, pk), VoucherIssueForm())


@require_POST
@member_permission_required("customers.issue_vouchers")
def voucher_issue(request, pk):
    association = own_association_for_member(request.user, pk)
    form = VoucherIssueForm(request.POST)
    return form_action(
        request,
        form,
        act=lambda data: funds.voucher_issue(
            actor=request.user,
            association=association,
            amount=data["amount"],
            expires_at=form.expires_at,
            idempotency_key=data["token"],
            reason=data["reason"],
        ),
        success=lambda voucher: _(
            "Issued a voucher of %(amount)s to %(customer)s. Your voucher quota is now %(quota)s."
        )
        % {
            "amount": format_amount(voucher.amount),
            "customer": association.customer.name,
            "quota": format_amount(association.partner.voucher_quota),
        },
        done=lambda voucher: _back_to_customer(request, association, voucher),
        page=lambda: _voucher_page(request, association, form),
    )


@require_GET
@member_permission_required("customers.view_customer")
def voucher_list(request):
    user = request.user
    form = VoucherFilterForm(filter_data(request))
    qs = filtered(vouchers_for(user), form, filter_vouchers)
    # The rows read the two customer columns they show, not the customer's thirty.
    listing = qs.select_related("customer").only(*VOUCHER_ROW_FIELDS)
    listed = list_page(
        request, queryset=qs, listing=listing, ordering=["-id"], scope=f"vouchers:{user.partner_id}", form=form
    )
    row_context = funds_rows_context(
        request, currency=user.partner.currency, recover=user.has_perm("customers.issue_vouchers")
    )
    return render(
        request, "customers/funds/voucher_list.html", listed.context(partner=user.partner, row_context=row_context)
    )


@require_POST
@member_permission_required("customers.issue_vouchers")
def voucher_recover(request, pk):
    voucher = voucher_for_member(request.user, pk)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("customers:voucher_list")
    return post_action(
        request,
        act=lambda: funds.voucher_recover(actor=request.user, voucher=voucher),
        success=lambda recovered: _(
            "Recovered the voucher of %(amount)s from %(customer)s. Your voucher quota is now %(quota)s."
        )
        % {
            "amount": format_amount(recovered.amount),
            "customer": voucher.customer.name,
            "quota": format_amount(recovered.partner.voucher_quota),
        },
        done=lambda: redirect(target),
    )
