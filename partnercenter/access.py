"""Who may see a portal page. Every partner view starts with one of these decorators:

- anonymous visitors are sent to the sign-in page;
- signed-in users who are not members of a partner (customers, operators) get the
  "no access" page (SPEC R20), never a partner's data;
- members without the named permission get 403.
Object scoping (another partner's object is a 404) lives in the selectors."""
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render


def _no_access(request):
    return render(request, "no_access.html", status=403)


def member_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_member:
            return _no_access(request)
        return view(request, *args, **kwargs)

    return wrapper


def member_permission_required(*perms):
    """Member only, holding every one of ``perms`` (else 403)."""

    def decorator(view):
        @member_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_permissions = perms
        return wrapper

    return decorator


def customer_required(view):
    """Account Center pages: signed-in customer account owners only."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            from django.urls import reverse

            return redirect_to_login(request.get_full_path(), reverse("customer_login"))
        if not user.is_customer or not hasattr(user, "customer"):
            return render(request, "no_access.html", {"account_center": True}, status=403)
        return view(request, *args, **kwargs)

    return wrapper
