"""Project-wide pages: the landing page (the partner home for members) and the error pages."""
from django.contrib.auth.views import LogoutView
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from api.errors import ApiError, problem_response, server_error
from customers.home.views import partner_home


@require_GET
def home(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    if user.is_member:
        return partner_home(request)
    if user.is_customer:
        return redirect("account_center:home")
    if user.is_staff:
        return redirect("admin:index")
    return render(request, "no_access.html", status=403)


class SignOutView(LogoutView):
    """POST only (Django's LogoutView refuses GET); the session is flushed."""


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def error_500(request):
    """An unhandled error: JSON under /api/ (callers are programs), the portal's page elsewhere."""
    if _is_api(request):
        return server_error(request)
    return render(request, "errors/500.html", status=500)


def csrf_failure(request, reason=""):
    """A form posted without a valid CSRF token (an expired page, cookies blocked): the
    portal's layout and language, and what to do about it; JSON under /api/."""
    if _is_api(request):
        return problem_response(
            ApiError(403, "permission_denied", _("The request was refused: its CSRF token is missing or wrong."))
        )
    return render(request, "errors/csrf.html", status=403)
