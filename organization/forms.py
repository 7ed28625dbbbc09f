"""Sign-in forms."""
from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from organization.models import User


class MemberLoginForm(forms.Form):
    """Member login (IAM-user style): partner account name + member user name + password."""

    partner_account = forms.CharField(label=_("Partner account name"), max_length=63)
    member_name = forms.CharField(label=_("Member user name"), max_length=64)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)

    error_messages = {
        "invalid_login": _(
            "The partner account name, member user name or password is wrong. All three are case-sensitive "
            "except the partner account name."
        ),
        "inactive": _("This member has been disabled. Ask your partner administrator."),
    }

    def __init__(self, request=None, *args, **kwargs):
        self.request = request
        self.user_cache = None
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        account, name, password = data.get("partner_account"), data.get("member_name"), data.get("password")
        if account and name and password:
            username = User.member_username(account, name)
            self.user_cache = authenticate(self.request, username=username, password=password)
            if self.user_cache is None:
                raise forms.ValidationError(
                    self.error_messages["inactive" if self._disabled(username, password) else "invalid_login"],
                    code="invalid_login",
                )
            if not self.user_cache.is_member:
                raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        return data

    def _disabled(self, username: str, password: str) -> bool:
        """Whether the member is disabled, told only to someone who knows their password: a
        wrong password says "wrong", whether the member exists, is active or is disabled."""
        if getattr(self.request, "axes_locked_out", False):
            return False
        member = User.objects.filter(username=username, is_active=False).first()
        return member is not None and member.check_password(password)

    def get_user(self):
        return self.user_cache


class CustomerLoginForm(AuthenticationForm):
    """Account Center sign-in for customer account owners (account name + password)."""

    username = forms.CharField(label=_("Account name"), max_length=150)

    error_messages = {
        "invalid_login": _("The account name or password is wrong."),
        "inactive": _("This account is disabled."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_customer:
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
