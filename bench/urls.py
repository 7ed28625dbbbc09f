"""The product's URLs plus the bare keyset page (bench only)."""
from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/bare/", views.bare_keyset_page, name="bench_bare"),
    path("", include("partnercenter.urls")),
]
