"""The URLs of API v1. Ninja answers a method an address does not accept with a bare 405;
each view is wrapped so that it is a problem document too, with its Allow header."""
from functools import wraps

from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from api.errors import ApiError
from api.v1.api import api


def _problem_405(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/"):
            allowed = ", ".join(sorted(filter(None, response.get("Allow", "").split(", "))))
            error = ApiError(
                405,
                "method_not_allowed",
                _("This address accepts %(methods)s only.") % {"methods": allowed},
                headers={"Allow": allowed},
            )
            return api.problem_response(request, error)
        return response

    return wrapper


def include_v1():
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = _problem_405(pattern.callback)
    return patterns, app_name, namespace


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Anything else under /api/ is a problem document, not the portal's HTML page."""
    error = ApiError(404, "not_found", _("There is no API endpoint at this address. See /api/v1/docs."))
    return api.problem_response(request, error)
