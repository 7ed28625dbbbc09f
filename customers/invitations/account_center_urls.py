"""The links a partner gives a customer (included by customers/account_center_urls.py under
the ``account_center`` namespace)."""
from django.urls import path

from customers.invitations import account_center_views as views

urlpatterns = [
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("invitations/<str:token>/accept/", views.invitation_accept, name="invitation_accept"),
    path("invitations/<str:token>/decline/", views.invitation_decline, name="invitation_decline"),
    path("invitations/<str:token>/sign-up/", views.invitation_sign_up, name="invitation_sign_up"),
    path("join/<str:token>/", views.public_link, name="public_link"),
    path("join/<str:token>/accept/", views.public_link_accept, name="public_link_accept"),
    path("join/<str:token>/sign-up/", views.public_link_sign_up, name="public_link_sign_up"),
]
