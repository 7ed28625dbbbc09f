"""Sales › Leads: invitations, the public partner link and project registrations (included
by customers/urls.py under the ``customers`` namespace)."""
from django.urls import path

from customers.invitations import views as views

urlpatterns = [
    path("invitations/", views.invitation_list, name="invitation_list"),
    path("invitations/new/", views.invitation_create, name="invitation_create"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/public-link/", views.public_link, name="public_link"),
    path("leads/projects/", views.project_list, name="project_list"),
    path("leads/projects/new/", views.project_create, name="project_create"),
]
