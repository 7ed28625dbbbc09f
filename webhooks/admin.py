from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from webhooks.models import Delivery, Endpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    """Operators read endpoints and deliveries; partners change them in the portal (services,
    operation records), never here."""

    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "partner", "is_active", "all_events", "failing_since", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "partner__account_name"]
    exclude = ["secret"]

    def get_readonly_fields(self, request, obj=None):
        return [name for name in super().get_readonly_fields(request, obj) if name != "secret"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "endpoint", "event", "status", "attempts", "status_code", "latency_ms", "due_at",
                    "error"]
    list_filter = ["status"]
    search_fields = ["event_id", "event", "endpoint__url"]
    date_hierarchy = "created_at"
    list_select_related = ["endpoint"]

    @admin.display(description=_("last error"))
    def error(self, obj):
        return Truncator(obj.last_error).chars(120)
