from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from notifications.models import OutgoingEmail


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """What the portal sent, is sending and could not send. Read-only: an e-mail is written by
    the service that queued it and by the task that sends it, never by hand."""

    list_display = ["created_at", "recipient", "subject", "kind", "status", "attempts", "due_at", "sent_at", "error"]
    list_filter = ["status", "kind"]
    search_fields = ["recipient", "subject", "message_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("last error"))
    def error(self, obj):
        return Truncator(obj.last_error).chars(120)
