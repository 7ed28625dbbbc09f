from django.urls import include, path

from customers import export, views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("export/", export.customer_export, name="export"),
    path("", include("customers.controls.urls")),
    path("", include("customers.funds.urls")),
    path("", include("customers.invitations.urls")),
    path("", include("customers.requests.urls")),
]
