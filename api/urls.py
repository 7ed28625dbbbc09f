from django.urls import path, re_path

from api import views

app_name = "api"
urlpatterns = [
    path("tokens", views.tokens, name="tokens"),
    path("tokens/current", views.current_token, name="current_token"),
    path("customer-tokens", views.customer_tokens, name="customer_tokens"),
    path("customers", views.customers, name="customers"),
    path("schema/", views.openapi_schema, name="schema"),
    path("docs/", views.docs, name="docs"),
    # Anything else under /api/ is a JSON 404, not the portal's HTML page.
    re_path(r"", views.not_found, name="not_found"),
]
