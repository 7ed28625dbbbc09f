"""Operation protection (SPEC R22).

When a partner turns it on, a sensitive action asks the member for their password again; a
confirmation then holds for ``PARTNER_CENTER["OPERATION_PROTECTION_MINUTES"]``. A view opts in
with one line, under its permission decorator::

    @require_POST
    @member_permission_required("customers.allocate_funds")
    @operation_protected
    def allocate(request, pk): ...

An unconfirmed POST does not reach the view: the member gets a password page that carries the
submitted fields along, and submitting it with the right password confirms and runs the
action with exactly what was first submitted. Nothing is stored server-side but the time of
the confirmation, in the member's session.
"""
import time
from functools import wraps

from django import forms
from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from organization.lockout import password_matches

SESSION_KEY = "operation_protection_confirmed_at"
# What the password page says it confirms, per protected view (``module.function``); a new
# protected view adds its line (``tests/test_polish.py`` checks that every one has it).
PROTECTED_ACTIONS = {
    "customers.requests.views.switch_submit": _("Switch the customer's association type"),
    "customers.requests.views.unbind_submit": _("Unbind the customer"),
    "customers.requests.views.request_approve": _("Approve the customer's dissociation request"),
    "customers.funds.views.allocate": _("Allocate funds to the customer"),
    "customers.funds.views.recover": _("Recover funds from the customer"),
    "customers.controls.views.freeze": _("Freeze the customer's account"),
    "customers.controls.views.unfreeze": _("Unfreeze the customer's account"),
    "customers.controls.views.batch": _("Act on many customers at once"),
    "customers.controls.views.controls_settings": _("Change the reseller controls settings"),
    "organization.views.organization_settings": _("Change the organization's settings"),
}
PASSWORD_FIELD = "operation_protection_password"


class ConfirmPasswordForm(forms.Form):
    operation_protection_password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, request, *args, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_operation_protection_password(self):
        password = self.cleaned_data[PASSWORD_FIELD]
        user = self.request.user
        # Counted against the account's sign-in lock, so a stolen session cannot be used to
        # guess the password.
        if not password_matches(self.request, user, password):
            raise forms.ValidationError(_("The password is not correct."), code="password_incorrect")
        return password


def protection_minutes() -> int:
    return settings.PARTNER_CENTER["OPERATION_PROTECTION_MINUTES"]


def is_confirmed(request) -> bool:
    confirmed_at = request.session.get(SESSION_KEY)
    if not isinstance(confirmed_at, (int, float)):
        return False
    return 0 <= time.time() - confirmed_at < protection_minutes() * 60


def confirm(request) -> None:
    request.session[SESSION_KEY] = time.time()


def _protection_on(request) -> bool:
    user = request.user
    return bool(getattr(user, "is_member", False) and user.partner.operation_protection)


def operation_protected(view):
    action_key = f"{view.__module__}.{view.__name__}"

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "POST" or not _protection_on(request) or is_confirmed(request):
            return view(request, *args, **kwargs)
        answered = PASSWORD_FIELD in request.POST
        form = ConfirmPasswordForm(request, data=request.POST if answered else None)
        if form.is_valid():
            confirm(request)
            resubmitted = request.POST.copy()
            resubmitted.pop(PASSWORD_FIELD)
            request.POST = resubmitted
            return view(request, *args, **kwargs)
        carried = [
            (name, value)
            for name, values in request.POST.lists()
            if name not in (PASSWORD_FIELD, "csrfmiddlewaretoken")
            for value in values
        ]
        return render(
            request,
            "organization/protection_confirm.html",
            {
                "form": form,
                "carried": carried,
                "action": request.get_full_path(),
                "minutes": protection_minutes(),
                "protected_action": PROTECTED_ACTIONS.get(action_key, ""),
            },
        )

    wrapper.operation_protected = True
    wrapper.protected_action_key = action_key
    return wrapper
