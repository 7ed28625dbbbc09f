"""Operators' side of leads: invitations as read-only history, and the review of project
registrations (approve or reject, always with a reason, through the service)."""
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from customers.admin import ReadOnlyAdmin
from customers.invitations.forms import ProjectReviewForm
from customers.invitations.services import project_review
from customers.models import Invitation, ProjectRegistration


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["email", "partner", "type", "status", "sent_at", "expires_at", "handled_at"]
    list_filter = ["status", "type"]
    search_fields = ["email", "name", "partner__name", "partner__account_name"]
    list_select_related = ["partner"]
    exclude = ["nonce"]
    show_full_result_count = False


@admin.register(ProjectRegistration)
class ProjectRegistrationAdmin(ReadOnlyAdmin):
    list_display = ["name", "partner", "customer", "expected_amount", "expected_close", "status", "submitted_at"]
    list_filter = ["status"]
    search_fields = ["name", "partner__name", "customer__account_name"]
    list_select_related = ["partner", "customer"]
    change_form_template = "admin/customers/projectregistration/change_form.html"

    def get_urls(self):
        review = path(
            "<int:pk>/review/",
            self.admin_site.admin_view(self.review_view),
            name="customers_projectregistration_review",
        )
        return [review, *super().get_urls()]

    def has_review_permission(self, request) -> bool:
        # The model's change permission means "may review": nothing else of it is editable.
        return request.user.has_perm("customers.change_projectregistration")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "has_review_permission": self.has_review_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def review_view(self, request, pk):
        project = get_object_or_404(ProjectRegistration.objects.select_related("partner", "customer"), pk=pk)
        if not self.has_review_permission(request):
            raise PermissionDenied
        form = ProjectReviewForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                project_review(
                    actor=request.user,
                    project=project,
                    approve=form.cleaned_data["decision"] == "approve",
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(request, _("The project %(name)s was reviewed.") % {"name": project.name})
                return redirect("admin:customers_projectregistration_change", pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": project,
            "form": form,
            "title": _("Review project %(name)s") % {"name": project.name},
        }
        return TemplateResponse(request, "admin/customers/projectregistration/review.html", context)
