"""Forms of organization management: members, roles, settings, the personal profile and the
customer-manager assignment. They validate input; the business rules (role combinations,
uniqueness, limits) are the services' and come back as errors on these forms."""
from django import forms
from django.apps import apps
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from organization.lockout import password_matches
from organization.models import User, member_name_validator
from organization.permissions import CATALOGUE, split
from organization.selectors import assignable_managers, roles_for, supervisors_for
from organization.services import normalise_email, normalise_mobile
from partnercenter.middleware import known_time_zones

_DEFAULT_PERMISSION_LABELS = {
    "view": _("Can view %(things)s"),
    "add": _("Can add %(things)s"),
    "change": _("Can change %(things)s"),
    "delete": _("Can delete %(things)s"),
}
MAX_BIGINT = 2**63 - 1


def permission_label(perm: str) -> str:
    """The translated name of a permission, taken from its model's Meta."""
    app_label, codename = split(perm)
    for model in apps.get_app_config(app_label).get_models():
        for code, label in model._meta.permissions:
            if code == codename:
                return label
        for action in model._meta.default_permissions:
            if codename == f"{action}_{model._meta.model_name}":
                return _DEFAULT_PERMISSION_LABELS[action] % {"things": model._meta.verbose_name_plural}
    return perm


def catalogue_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The permission checklist, grouped by menu (SPEC R19)."""
    return [(group, [(perm, permission_label(perm)) for perm in perms]) for group, perms in CATALOGUE]


class _ContactForm(forms.Form):
    """The contact fields of a member, in the member forms and the profile alike."""

    display_name = forms.CharField(label=_("Name"), max_length=100)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    mobile = forms.CharField(
        label=_("Mobile"),
        max_length=32,
        required=False,
        help_text=_("International form with country code, e.g. +8613812345678."),
    )

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])

    def clean_mobile(self):
        return normalise_mobile(self.cleaned_data["mobile"])


class _NewPasswordMixin:
    """Two password fields that must match and pass the password validators."""

    password_user: User | None = None

    def clean_password2(self):
        first, second = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if first and second and first != second:
            raise ValidationError(_("The two passwords differ."), code="password_mismatch")
        if second:
            password_validation.validate_password(second, self.password_user)
        return second


def _password_fields(first_label):
    return (
        forms.CharField(
            label=first_label,
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
            help_text=password_validation.password_validators_help_text_html(),
        ),
        forms.CharField(
            label=_("Repeat the password"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        ),
    )


class _MemberFieldsForm(_ContactForm):
    roles = forms.ModelMultipleChoiceField(
        label=_("Roles"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "One to three roles. System Administrator stands alone; Customer Manager and Customer Manager "
            "Supervisor exclude each other."
        ),
    )
    supervisor = forms.ModelChoiceField(
        label=_("Supervisor"),
        queryset=None,
        required=False,
        empty_label=_("No supervisor"),
        help_text=_("Only for customer managers: the Customer Manager Supervisor who sees their customers."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].queryset = roles_for(actor).order_by("partner_id", "name")
        self.fields["roles"].label_from_instance = lambda role: role.display_name
        self.fields["supervisor"].queryset = supervisors_for(actor.partner_id)


class MemberCreateForm(_NewPasswordMixin, _MemberFieldsForm):
    member_name = forms.CharField(
        label=_("Member user name"),
        max_length=64,
        validators=[member_name_validator],
        help_text=_("Used to sign in; it cannot be changed later."),
    )
    password1, password2 = _password_fields(_("Password"))

    field_order = ["member_name", "display_name", "email", "mobile", "roles", "supervisor", "password1", "password2"]

    def clean_password2(self):
        self.password_user = User(
            member_name=self.cleaned_data.get("member_name", ""),
            display_name=self.cleaned_data.get("display_name", ""),
            email=self.cleaned_data.get("email", ""),
        )
        return super().clean_password2()


class MemberUpdateForm(_MemberFieldsForm):
    def __init__(self, *args, member: User, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "display_name": member.display_name,
                "email": member.email,
                "mobile": member.mobile,
                "roles": list(member.roles.all()),
                "supervisor": member.supervisor_id,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].queryset = self.fields["supervisor"].queryset.exclude(pk=member.pk)


class PasswordResetForm(_NewPasswordMixin, forms.Form):
    password1, password2 = _password_fields(_("New password"))

    def __init__(self, *args, member: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.password_user = member


class RoleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one permission.")},
    )

    def __init__(self, *args, role=None, **kwargs):
        if role is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": role.display_name,
                    "description": role.display_description,
                    "permissions": [f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all()],
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = catalogue_choices()

    def checklist(self):
        """The checklist for the template: (menu, [(value, label, checked, id)])."""
        selected = set(self["permissions"].value() or [])
        return [
            (group, [(value, label, value in selected, f"perm-{value.replace('.', '-')}") for value, label in options])
            for group, options in self.fields["permissions"].choices
        ]


class SettingsForm(forms.Form):
    operation_protection = forms.BooleanField(
        label=_("Operation protection"),
        required=False,
        help_text=_(
            "Members re-enter their password before unbinding, switching, approving, allocating or recovering; "
            "a confirmation holds for %(minutes)d minutes."
        ),
    )

    def __init__(self, *args, minutes: int, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["operation_protection"]
        field.help_text = field.help_text % {"minutes": minutes}


class ProfileForm(_ContactForm):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Dates and times are shown in this time zone; empty: the browser's."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zones = ((zone, zone) for zone in sorted(known_time_zones()))
        self.fields["time_zone"].choices = [("", _("The browser's time zone")), *zones]


class PasswordChangeForm(_NewPasswordMixin, forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    password1, password2 = _password_fields(_("New password"))

    def __init__(self, *args, member: User, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.password_user = member
        self.request = request

    def clean_old_password(self):
        password = self.cleaned_data["old_password"]
        # Counted against the account's sign-in lock: a stolen session cannot guess it here.
        if not password_matches(self.request, self.password_user, password):
            raise ValidationError(_("Your current password is not correct."), code="password_incorrect")
        return password


class _IdListField(forms.Field):
    """A list of row ids from checkboxes; anything that is not one is a form error."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("Choose customers from the list.")}

    def __init__(self, *, max_items, **kwargs):
        self.max_items = max_items
        super().__init__(**kwargs)

    def to_python(self, value):
        if not value:
            return []
        try:
            ids = sorted({int(v) for v in value})
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if not all(0 < i <= MAX_BIGINT for i in ids):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if len(ids) > self.max_items:
            raise ValidationError(
                _("Choose at most %(limit)d customers at a time.") % {"limit": self.max_items}, code="too_many"
            )
        return ids


class CustomerManagerAssignForm(forms.Form):
    """The bulk form on the customer list: give the ticked customers a manager (or none)."""

    customers = _IdListField(
        max_items=500,
        label=_("Customers"),
        error_messages={"required": _("Tick at least one customer.")},
    )
    manager = forms.ModelChoiceField(
        label=_("Customer manager"), queryset=None, required=False, empty_label=_("No manager")
    )
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = assignable_managers(actor.partner_id)
