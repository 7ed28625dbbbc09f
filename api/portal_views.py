"""Partner info › API keys: members with the API permission create and revoke the partner's
keys. A new key is shown once, on the answer to the POST that created it, and never again."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from api import services
from api.forms import ApiKeyForm
from api.rows import key_rows_context
from api.selectors import api_keys_for
from partnercenter.access import member_permission_required


def _render(request, form, *, new_key=None, status=200):
    keys = api_keys_for(request.user).order_by("-id")
    context = {"form": form, "keys": keys, "new_key": new_key, "row_context": key_rows_context(request)}
    return render(request, "api/key_list.html", context, status=status)


@require_GET
@member_permission_required("organization.use_api")
def key_list(request):
    return _render(request, ApiKeyForm())


@never_cache
@require_POST
@member_permission_required("organization.use_api")
def key_create(request):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    key, raw = services.api_key_create(actor=request.user, name=form.cleaned_data["name"])
    return _render(request, ApiKeyForm(), new_key={"key": key, "raw": raw})


@require_POST
@member_permission_required("organization.use_api")
def key_revoke(request, pk):
    key = get_object_or_404(api_keys_for(request.user), pk=pk)
    try:
        services.api_key_revoke(actor=request.user, api_key=key)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("The API key %(name)s is revoked. Tokens obtained with it no longer work.")
                         % {"name": key.name})
    return redirect("api_keys:list")
