from django.contrib import admin
from django.urls import include, path

from organization.auth_views import CustomerLoginView, MemberLoginView
from partnercenter import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", MemberLoginView.as_view(), name="login"),
    path("accounts/customer-login/", CustomerLoginView.as_view(), name="customer_login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("customers/", include("customers.urls")),
    path("organization/", include("organization.urls")),
    path("records/", include("audit.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("account-center/", include("customers.account_center_urls")),
    path("api/", include("api.urls")),
    path("api-keys/", include("api.portal_urls")),
    path("admin/", admin.site.urls),
]

handler403 = "partnercenter.views.error_403"
handler404 = "partnercenter.views.error_404"
handler500 = "partnercenter.views.error_500"
