"""Request URLs of the Account Center (included by customers/account_center_urls.py under the
``account_center`` namespace). Each state change has its own POST-only endpoint."""
from django.urls import path

from customers.requests import account_center_views as views

urlpatterns = [
    path("requests/<int:pk>/", views.request_handle, name="request_handle"),
    path("requests/<int:pk>/agree/", views.request_agree, name="request_agree"),
    path("requests/<int:pk>/reject/", views.request_reject, name="request_reject"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="request_cancel"),
    path("dissociate/", views.dissociate, name="dissociate"),
    path("dissociate/submit/", views.dissociate_submit, name="dissociate_submit"),
]
