"""Operator admin: customers with every account fact, and read-only history."""
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from audit.admin_records import RecordedAdminMixin, RecordedInlineMixin
from audit.events import Event
from customers import services
from customers.models import Association, AssociationRequest, Customer, ReservedInstance


class ReservedInstanceInline(RecordedInlineMixin, admin.TabularInline):
    model = ReservedInstance
    extra = 0
    record_added = Event.RESERVED_INSTANCE_ADDED
    record_changed = Event.RESERVED_INSTANCE_CHANGED
    record_removed = Event.RESERVED_INSTANCE_REMOVED


@admin.register(Customer)
class CustomerAdmin(RecordedAdminMixin, admin.ModelAdmin):
    # save_model goes through customer_facts_save, which records the facts; the mixin records
    # the reserved instances.
    record_created = record_updated = Event.CUSTOMER_FACTS_UPDATED
    record_deleted = ""
    list_display = ["account_name", "name", "email", "enterprise_role", "frozen", "arrears", "registered_at"]
    list_filter = ["enterprise_role", "frozen", "postpaid", "invoice_owed", "special_contract", "has_consumption"]
    search_fields = ["account_name", "name", "email"]
    raw_id_fields = ["user", "enterprise_master", "manager"]
    readonly_fields = ["allocated_balance", "frozen_source", "frozen_by_name", "frozen_at", "monthly_budget",
                       "month_spend", "spend_month"]
    inlines = [ReservedInstanceInline]
    fieldsets = [
        (None, {"fields": ["account_name", "name", "email", "user", "registered_at", "manager"]}),
        (_("Enterprise"), {"fields": ["enterprise_role", "enterprise_master", "financially_hosted"]}),
        (
            _("Billing"),
            {
                "fields": [
                    "has_consumption", "arrears", "postpaid", "invoice_owed", "special_contract", "frozen",
                    "frozen_reason", "orders_awaiting_partner_payment", "cash_balance", "cash_withdraw_only",
                    "allocated_balance",
                ]
            },
        ),
        (
            _("Reseller controls"),
            {"fields": [
                "frozen_source", "frozen_by_name", "frozen_at", "monthly_budget", "month_spend", "spend_month",
            ]},
        ),
    ]

    def record_scope(self, obj) -> dict:
        association = Association.objects.filter(customer=obj, status=Association.Status.ACTIVE).first()
        return {"customer": obj, "partner": association.partner if association else None, "association": association}

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            services.customer_facts_save(actor=request.user, customer=obj, changed=form.changed_data)

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is changed only by the portal's services, never by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Association)
class AssociationAdmin(ReadOnlyAdmin):
    list_display = ["id", "partner", "customer", "type", "status", "origin", "started_at", "ended_at"]
    list_filter = ["status", "type", "origin"]
    search_fields = ["customer__account_name", "customer__name", "partner__name"]
    list_select_related = ["partner", "customer"]
    show_full_result_count = False


@admin.register(AssociationRequest)
class AssociationRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "association", "created_at", "deadline"]
    list_filter = ["kind", "status"]
    list_select_related = ["association__partner", "association__customer"]


# Invitations and project registrations, and the reseller controls, register themselves (their
# admin lives with the feature).
from customers.controls import admin as _controls_admin  # noqa: E402, F401
from customers.invitations import admin  # noqa: E402, F401
