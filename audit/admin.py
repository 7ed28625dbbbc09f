"""Operation records in the admin: read-only, no add, change or delete."""
from django.contrib import admin

from audit.models import OperationRecord


@admin.register(OperationRecord)
class OperationRecordAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "event", "category", "partner", "customer", "actor_name", "actor_kind"]
    list_filter = ["category", "actor_kind"]
    search_fields = ["event", "customer__account_name", "actor_name", "request_id"]
    list_select_related = ["partner", "customer"]
    show_full_result_count = False
    readonly_fields = [f.name for f in OperationRecord._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
