"""System checks that refuse unsafe production settings (run by ``check --deploy``)."""
from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def production_settings(app_configs, **kwargs):
    errors = []
    if settings.DEBUG:
        errors.append(Error("DEBUG must be off in production.", id="partnercenter.E001"))
    if settings.SECRET_KEY == settings.INSECURE_SECRET_KEY:
        errors.append(Error("SECRET_KEY is the local development key.", id="partnercenter.E002"))
    if not settings.ALLOWED_HOSTS:
        errors.append(Error("ALLOWED_HOSTS is empty.", id="partnercenter.E003"))
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        errors.append(
            Error("Production runs on PostgreSQL: set DATABASE_URL=postgres://…", id="partnercenter.E004")
        )
    return errors
