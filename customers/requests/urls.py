"""Request URLs of the partner portal, included into the ``customers`` namespace. Each
state change has its own POST-only endpoint."""
from django.urls import path

from customers.requests import views as views

urlpatterns = [
    path("<int:pk>/switch/", views.switch_check, name="switch_check"),
    path("<int:pk>/switch/notes/", views.switch_notes, name="switch_notes"),
    path("<int:pk>/switch/submit/", views.switch_submit, name="switch_submit"),
    path("<int:pk>/unbind/", views.unbind_check, name="unbind_check"),
    path("<int:pk>/unbind/notes/", views.unbind_notes, name="unbind_notes"),
    path("<int:pk>/unbind/submit/", views.unbind_submit, name="unbind_submit"),
    path("requests/", views.request_inbox, name="request_inbox"),
    path("requests/<int:request_pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:request_pk>/cancel/", views.request_cancel, name="request_cancel"),
    path("requests/<int:request_pk>/approve/", views.request_approve, name="request_approve"),
    path("requests/<int:request_pk>/reject/", views.request_reject, name="request_reject"),
]
