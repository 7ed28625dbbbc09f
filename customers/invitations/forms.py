"""Forms of invitations, the customer sign-up from a partner's link, and project registration.
They validate the input; the business rules (daily limit, link state, account check,
programme membership) are the services', and come back as form errors."""
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from customers.funds.forms import MoneyField
from customers.invitations.selectors import own_customer_by_account
from customers.models import Association, Customer, Invitation
from organization.models import User, account_name_validator
from partnercenter.text import ValidTextFormMixin
from partnercenter.widgets import use_fast_widgets

TYPE_HELP = {
    Association.Type.REFERRAL: _("The customer pays the vendor and invoices itself; you advise it."),
    Association.Type.RESELLER: _("You fund the customer's account and invoice the customer."),
}


def _language_field():
    return forms.ChoiceField(
        label=_("Language of the e-mail"),
        choices=settings.LANGUAGES,
        help_text=_("The customer receives the invitation in this language."),
    )


def current_language() -> str:
    codes = dict(settings.LANGUAGES)
    language = get_language()
    return language if language in codes else settings.LANGUAGE_CODE


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Customer e-mail"))
    name = forms.CharField(label=_("Customer name (optional)"), required=False, max_length=200)
    type = forms.ChoiceField(
        label=_("Intended association type"), choices=Association.Type.choices, widget=forms.RadioSelect
    )
    language = _language_field()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("language", current_language())
        super().__init__(*args, **kwargs)


class InvitationResendForm(forms.Form):
    email = forms.EmailField(
        label=_("Customer e-mail"),
        help_text=_("Change it if the customer's e-mail changed; the old link stops working."),
    )
    name = forms.CharField(label=_("Customer name (optional)"), required=False, max_length=200)
    language = _language_field()

    @classmethod
    def for_invitation(cls, invitation: Invitation, data=None):
        initial = {"email": invitation.email, "name": invitation.name, "language": invitation.language}
        return cls(data, initial=initial)


class InvitationFilterForm(forms.Form):
    STATUS_CHOICES = [("", _("Any status")), *Invitation.Status.choices]

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("E-mail or name")
        use_fast_widgets(self)


class CustomerSignUpForm(ValidTextFormMixin, forms.Form):
    """A new customer account from a partner's link: the account name signs in."""

    account_name = forms.CharField(
        label=_("Account name"),
        max_length=63,
        validators=[account_name_validator],
        help_text=_("You sign in to the Account Center with this name. It cannot be changed later."),
    )
    name = forms.CharField(label=_("Your name or company name"), max_length=200)
    email = forms.EmailField(label=_("E-mail"))
    password1 = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), strip=False, widget=forms.PasswordInput)

    def clean_account_name(self):
        account_name = self.cleaned_data["account_name"]
        if Customer.objects.filter(account_name=account_name).exists() or User.objects.filter(
            username=account_name
        ).exists():
            raise forms.ValidationError(_("This account name is taken. Choose another one."), code="taken")
        return account_name

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("This e-mail is already registered. Sign in with that account instead, or use another e-mail."),
                code="taken",
            )
        return email

    def clean(self):
        data = super().clean()
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2:
            if password1 != password2:
                self.add_error("password2", _("The two passwords do not match."))
            else:
                candidate = User(
                    username=data.get("account_name", ""),
                    email=data.get("email", ""),
                    display_name=data.get("name", ""),
                )
                try:
                    password_validation.validate_password(password1, candidate)
                except forms.ValidationError as error:
                    self.add_error("password1", error)
        return data


class ProjectRegistrationForm(forms.Form):
    customer = forms.CharField(
        label=_("Customer account name"), max_length=64, help_text=_("One of your organization's customers.")
    )
    name = forms.CharField(label=_("Project name"), max_length=200)
    expected_amount = MoneyField(label=_("Expected amount"), max_digits=14, min_value=Decimal("0.01"))
    expected_close = forms.DateField(label=_("Expected close date"), widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(label=_("Description"), required=False, max_length=5000, widget=forms.Textarea)

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_customer(self):
        customer = own_customer_by_account(self.user, self.cleaned_data["customer"])
        if customer is None:
            raise forms.ValidationError(
                _("No customer of your organization has this account name."), code="unknown_customer"
            )
        return customer

    def clean_expected_close(self):
        from customers.invitations.services import project_close_refusal

        expected_close = self.cleaned_data["expected_close"]
        refusal = project_close_refusal(expected_close)
        if refusal is not None:
            raise refusal
        return expected_close


class ProjectReviewForm(forms.Form):
    """The operator's decision on a submitted project (Django admin)."""

    DECISIONS = [("approve", _("Approve")), ("reject", _("Reject"))]

    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The partner sees this reason."),
    )
