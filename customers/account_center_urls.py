"""The customer's Account Center."""
from django.urls import include, path

from audit import account_center_views as audit_views
from customers import account_center_views as views

app_name = "account_center"
urlpatterns = [
    path("", views.my_partner, name="home"),
    path("", include("customers.invitations.account_center_urls")),
    path("", include("customers.requests.account_center_urls")),
    path("records/", audit_views.my_records, name="records"),
]
