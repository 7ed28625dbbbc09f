"""API v1 on django-ninja: ``api.v1.api.api`` is the NinjaAPI instance, mounted at /api/v1/."""
