"""Operator admin for partners, members and roles."""
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Permission
from django.db import router, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.admin_records import RecordedAdminMixin
from audit.events import Event
from audit.services import record
from customers.funds.admin import PartnerFundsAdminMixin
from organization import services
from organization.models import Partner, Role, User
from organization.permissions import ALL_PORTAL_PERMISSIONS


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
class PartnerAdmin(RecordedAdminMixin, PartnerFundsAdminMixin, admin.ModelAdmin):
    # save_model goes through the partner services, which write the records.
    record_created, record_updated, record_deleted = Event.PARTNER_CREATED, Event.PARTNER_UPDATED, ""
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

    def record_scope(self, obj) -> dict:
        return {"partner": obj}

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


def portal_permissions():
    """The permissions a role may grant: the portal's catalogue, nothing of the admin's."""
    query = Q()
    for perm in ALL_PORTAL_PERMISSIONS:
        app_label, codename = perm.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(query).select_related("content_type")


class RoleAdminForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = ["partner", "name", "description", "permissions"]

    def clean_partner(self):
        # Built-in roles come from a migration; a role made here belongs to one partner.
        if self.cleaned_data["partner"] is None:
            raise forms.ValidationError(_("Choose the partner this role belongs to."))
        return self.cleaned_data["partner"]


@admin.register(Role)
class RoleAdmin(RecordedAdminMixin, admin.ModelAdmin):
    """Custom roles of each partner. Built-in roles are shared by every partner and, as in the
    portal, read-only: an operator cannot widen what every partner's Read-only role grants."""

    form = RoleAdminForm
    list_display = ["__str__", "partner", "builtin"]
    list_filter = ["builtin"]
    search_fields = ["name", "partner__name"]
    filter_horizontal = ["permissions"]
    list_select_related = ["partner"]
    readonly_fields = ["builtin"]
    record_created, record_updated, record_deleted = Event.ROLE_CREATED, Event.ROLE_UPDATED, Event.ROLE_DELETED

    def record_scope(self, obj) -> dict:
        return {"partner": obj.partner}

    def record_deleted_state(self, obj) -> dict:
        # Deleting a role takes it from every member who held it.
        return {**super().record_deleted_state(obj), "members": sorted(obj.members.values_list("pk", flat=True))}

    def has_change_permission(self, request, obj=None):
        return not (obj is not None and obj.builtin) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not (obj is not None and obj.builtin) and super().has_delete_permission(request, obj)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "permissions":
            kwargs["queryset"] = portal_permissions()
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class MemberChangeForm(UserChangeForm):
    def clean_roles(self):
        roles = self.cleaned_data["roles"]
        partner_id = self.instance.partner_id
        if any(partner_id is None or role.partner_id not in (None, partner_id) for role in roles):
            raise forms.ValidationError(
                _("Only members hold roles: the built-in roles and the custom roles of their own partner.")
            )
        return roles


@admin.register(User)
class UserAdmin(RecordedAdminMixin, DjangoUserAdmin):
    form = MemberChangeForm
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

    def record_event(self, obj, action: str) -> str:
        member = obj.kind == User.Kind.MEMBER
        return {
            "created": Event.USER_CREATED,
            "updated": Event.MEMBER_UPDATED if member else Event.USER_UPDATED,
            "deleted": Event.MEMBER_DELETED if member else Event.USER_DELETED,
            "password": Event.MEMBER_PASSWORD_RESET if member else Event.USER_PASSWORD_SET,
        }[action]

    def record_scope(self, obj) -> dict:
        customer = getattr(obj, "customer", None) if obj.kind == User.Kind.CUSTOMER else None
        return {"partner": obj.partner, "customer": customer}

    def user_change_password(self, request, id, form_url=""):
        # Django leaves this view outside a transaction; the record belongs with the new hash.
        with transaction.atomic(using=router.db_for_write(self.model)):
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = User.objects.get(pk=id)
                record(
                    event=self.record_event(user, "password"), actor=request.user,
                    after=self.record_identity(user), **self.record_scope(user),
                )
        return response

    def save_model(self, request, obj, form, change):
        if not change:
            # Users added here are operators; members come from organization management and
            # customers from sign-up or the API.
            obj.kind = User.Kind.OPERATOR
            obj.is_staff = True
        super().save_model(request, obj, form, change)
