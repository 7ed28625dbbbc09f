"""Operators' side of the reseller controls: posting a customer's usage (the vendor's
billing, by hand) and the usage and budget history as read-only lists. Freezing is the
customer's ``frozen`` fact on its admin page (a vendor freeze, customers.controls.services)."""
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect

from audit.admin_records import RecordedAdminMixin
from audit.events import Event
from customers.admin import ReadOnlyAdmin
from customers.controls import services as controls
from customers.models import BudgetChange, UsagePosting


@admin.register(UsagePosting)
class UsagePostingAdmin(RecordedAdminMixin, admin.ModelAdmin):
    """Adding is posting usage through ``customer_usage_post`` (which records it); postings
    are never edited or deleted."""

    record_created = record_updated = Event.USAGE_POSTED
    record_deleted = ""
    list_display = ["customer", "amount", "month", "reference", "posted_by", "posted_at"]
    search_fields = ["customer__account_name", "reference"]
    raw_id_fields = ["customer"]
    fields = ["customer", "amount", "reference"]
    list_select_related = ["customer", "posted_by"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            try:
                posting = controls.customer_usage_post(
                    actor=request.user, customer=obj.customer, amount=obj.amount, reference=obj.reference or None
                )
            except ValidationError as error:
                # Shown on the form by ``save_form`` below: nothing was posted.
                raise _Refused(error) from error
        obj.pk, obj.month, obj._state.adding = posting.pk, posting.month, False

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except _Refused as refused:
            for message in refused.error.messages:
                messages.error(request, message)
            return redirect(request.path)


class _Refused(Exception):
    def __init__(self, error: ValidationError):
        super().__init__(str(error))
        self.error = error


@admin.register(BudgetChange)
class BudgetChangeAdmin(ReadOnlyAdmin):
    list_display = ["customer", "partner", "old_budget", "new_budget", "actor_name", "created_at"]
    search_fields = ["customer__account_name"]
    list_select_related = ["customer", "partner"]
    show_full_result_count = False
