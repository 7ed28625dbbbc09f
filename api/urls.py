from django.http import HttpResponsePermanentRedirect
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from api.v1 import urls as v1_urls

app_name = "api"


def moved(to: str):
    """The addresses before API v1: a 308 keeps the method and body, so a client that follows
    redirects (with its Authorization header) keeps working; answers are v1's."""

    @csrf_exempt
    def view(request):
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(to + ("?" + query if query else ""), preserve_request=True)

    return view


urlpatterns = [
    path("v1/", v1_urls.include_v1()),
    path("tokens", moved("/api/v1/tokens"), name="tokens"),
    path("tokens/current", moved("/api/v1/tokens/current"), name="current_token"),
    path("customer-tokens", moved("/api/v1/customer-tokens"), name="customer_tokens"),
    path("customers", moved("/api/v1/customers"), name="customers"),
    path("schema/", moved("/api/v1/openapi.json"), name="schema"),
    path("docs/", moved("/api/v1/docs"), name="docs"),
    # Anything else under /api/ is a problem document, not the portal's HTML page.
    re_path(r"", v1_urls.not_found, name="not_found"),
]
