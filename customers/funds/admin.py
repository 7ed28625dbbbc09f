"""Operators' side of funds: topping up a partner's balance and voucher quota from the
partner's admin page, and the ledger and vouchers as read-only lists."""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from customers.admin import ReadOnlyAdmin
from customers.funds import services as funds
from customers.funds.forms import TopUpForm
from customers.models import LedgerEntry, Voucher
from organization.models import Partner

# The top-up page shows the partner's latest ledger rows for context.
RECENT_LEDGER_ROWS = 20


class PartnerFundsAdminMixin:
    """Adds a "Top up" button to the partner's admin page and the page behind it."""

    change_form_template = "customers/funds/admin_partner_change_form.html"

    def get_urls(self):
        urls = [
            path(
                "<int:object_id>/top-up/",
                self.admin_site.admin_view(self.top_up_view),
                name="organization_partner_top_up",
            ),
        ]
        return urls + super().get_urls()

    def top_up_view(self, request, object_id):
        partner = get_object_or_404(Partner, pk=object_id)
        if not self.has_change_permission(request, partner):
            raise PermissionDenied
        if request.method == "POST":
            form = TopUpForm(request.POST)
            if form.is_valid():
                balance = form.cleaned_data["target"] == TopUpForm.BALANCE
                service = funds.partner_top_up if balance else funds.voucher_quota_top_up
                try:
                    entry = service(
                        actor=request.user,
                        partner=partner,
                        amount=form.cleaned_data["amount"],
                        idempotency_key=form.cleaned_data["token"],
                        reason=form.cleaned_data["reason"],
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    self.message_user(
                        request,
                        _("%(kind)s of %(amount)s for %(partner)s recorded.")
                        % {"kind": entry.get_kind_display(), "amount": entry.amount, "partner": partner.name},
                        messages.SUCCESS,
                    )
                    if entry.replayed:
                        self.message_user(
                            request, _("This form had already been submitted; it took effect only once."), messages.INFO
                        )
                    return redirect(reverse("admin:organization_partner_top_up", args=[partner.pk]))
        else:
            form = TopUpForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": partner,
            "title": _("Top up %(partner)s") % {"partner": partner.name},
            "form": form,
            "ledger": LedgerEntry.objects.filter(partner=partner).select_related("customer").order_by("-id")[
                :RECENT_LEDGER_ROWS
            ],
        }
        return TemplateResponse(request, "customers/funds/admin_top_up.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Every money movement as recorded; only the portal's services write it."""

    list_display = [
        "id", "created_at", "partner", "customer", "kind", "amount", "partner_balance_after",
        "customer_balance_after", "actor_name",
    ]
    list_filter = ["kind"]
    search_fields = ["partner__name", "partner__account_name", "customer__account_name", "customer__name"]
    list_select_related = ["partner", "customer"]
    show_full_result_count = False


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyAdmin):
    list_display = ["id", "partner", "customer", "amount", "expires_at", "status", "issued_at", "recovered_at"]
    list_filter = ["status"]
    search_fields = ["partner__name", "partner__account_name", "customer__account_name", "customer__name"]
    list_select_related = ["partner", "customer"]
    show_full_result_count = False

