"""Operator admin for partners, members and roles."""
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from customers.funds_admin import PartnerFundsAdminMixin
from organization import services
from organization.models import Partner, Role, User


class PartnerCreationForm(forms.ModelForm):
    """Creating a partner also creates its administrator account."""

    admin_member_name = forms.CharField(label=_("Administrator user name"), initial="admin", max_length=64)
    admin_email = forms.EmailField(label=_("Administrator e-mail"))
    admin_password = forms.CharField(label=_("Administrator password"), widget=forms.PasswordInput, strip=False)

    class Meta:
        model = Partner
        fields = ["account_name", "name", "kind", "distributor", "frozen", "in_migration_programme"]

    def clean_admin_email(self):
        email = self.cleaned_data["admin_email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("This e-mail is already registered. Remove it from the other account first, or use another one.")
            )
        return email

    def clean_admin_password(self):
        from django.contrib.auth.password_validation import validate_password

        password = self.cleaned_data["admin_password"]
        validate_password(password)
        return password


@admin.register(Partner)
class PartnerAdmin(PartnerFundsAdminMixin, admin.ModelAdmin):
    list_display = ["name", "account_name", "kind", "distributor", "frozen", "balance", "voucher_quota"]
    list_filter = ["kind", "frozen", "in_migration_programme"]
    search_fields = ["name", "account_name"]
    list_select_related = ["distributor"]
    readonly_fields = ["balance", "voucher_quota", "created_at"]
    fields = [
        "account_name", "name", "kind", "distributor", "frozen", "in_migration_programme",
        "operation_protection", "balance", "voucher_quota", "created_at",
    ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = PartnerCreationForm
            kwargs["fields"] = None
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*PartnerCreationForm.Meta.fields, "admin_member_name", "admin_email", "admin_password"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            if change:
                services.partner_update(actor=request.user, partner=obj, changed=form.changed_data)
            else:
                services.partner_create(
                    actor=request.user,
                    partner=obj,
                    admin_member_name=form.cleaned_data["admin_member_name"],
                    admin_email=form.cleaned_data["admin_email"],
                    admin_password=form.cleaned_data["admin_password"],
                )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "partner", "builtin"]
    list_filter = ["builtin"]
    search_fields = ["name", "partner__name"]
    filter_horizontal = ["permissions"]
    list_select_related = ["partner"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "kind", "partner", "display_name", "email", "is_active", "is_staff"]
    list_filter = ["kind", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "email", "mobile"]
    list_select_related = ["partner"]
    ordering = ["username"]
    filter_horizontal = ["roles", "groups", "user_permissions"]
    readonly_fields = ["username", "kind", "partner", "member_name", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["username", "password", "kind", "partner", "member_name"]}),
        (_("Profile"), {"fields": ["display_name", "email", "mobile", "language"]}),
        (_("Partner roles"), {"fields": ["is_partner_admin", "roles", "supervisor"]}),
        (_("Operator access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["username", "email", "password1", "password2"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            # Users added here are operators; members come from organization management and
            # customers from sign-up or the API.
            obj.kind = User.Kind.OPERATOR
            obj.is_staff = True
        super().save_model(request, obj, form, change)
