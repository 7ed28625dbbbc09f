from django.urls import path

from api import portal_views

app_name = "api_keys"
urlpatterns = [
    path("", portal_views.key_list, name="list"),
    path("create/", portal_views.key_create, name="create"),
    path("<int:pk>/revoke/", portal_views.key_revoke, name="revoke"),
]
