"""The portal's URLs plus two that fail, for tests/test_cache_down.py: an unhandled error is
JSON under /api/ and the portal's page elsewhere."""
from django.urls import path

from partnercenter.urls import handler403, handler404, handler500  # noqa: F401
from partnercenter.urls import urlpatterns as portal_urlpatterns


def failing(request):
    raise RuntimeError("a bug")


urlpatterns = [path("api/failing", failing), path("failing", failing), *portal_urlpatterns]
