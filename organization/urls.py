from django.urls import path

from organization import views

app_name = "organization"
urlpatterns = [
    path("", views.member_list, name="members"),
    path("members/new/", views.member_create, name="member_create"),
    path("members/<int:pk>/", views.member_edit, name="member_edit"),
    path("members/<int:pk>/disable/", views.member_disable, name="member_disable"),
    path("members/<int:pk>/enable/", views.member_enable, name="member_enable"),
    path("members/<int:pk>/password/", views.member_reset_password, name="member_reset_password"),
    path("roles/", views.role_list, name="roles"),
    path("roles/new/", views.role_create, name="role_create"),
    path("roles/<int:pk>/", views.role_edit, name="role_edit"),
    path("roles/<int:pk>/delete/", views.role_delete, name="role_delete"),
    path("settings/", views.organization_settings, name="settings"),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.password_change, name="password_change"),
    path("customer-managers/", views.customer_manager_assign, name="customer_manager_assign"),
]
