"""Settings for Partner Center, read from the environment.

Every variable has a safe default for local use. A value that cannot be parsed stops the
process with a message naming the variable, and with DEBUG off an unsafe secret key is
refused (see partnercenter.checks).
"""
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from partnercenter.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

INSECURE_SECRET_KEY = "django-insecure-partnercenter-local-only"

# Local use by default; production sets DEBUG=false and must then supply a real SECRET_KEY.
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", INSECURE_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == INSECURE_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "js_lib_bootstrap5",
    "axes",
    "partnercenter.apps.PartnerCenterConfig",
    "organization",
    "customers",
    "audit",
    "api",
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "partnercenter.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "partnercenter.urls"
WSGI_APPLICATION = "partnercenter.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "partnercenter.context_processors.page_perms",
                "django.contrib.messages.context_processors.messages",
                "partnercenter.context_processors.portal",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'partnercenter.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})
    # Every statement has an upper bound; a runaway query cannot hold a worker forever. JIT
    # compilation costs more than it saves on these short queries (bench/postgresql.conf).
    _db["OPTIONS"].setdefault(
        "options", f"-c statement_timeout={env_int('DB_STATEMENT_TIMEOUT_MS', 30000)} -c jit=off"
    )
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    _db.setdefault("OPTIONS", {})
    # IMMEDIATE transactions make SQLite take its write lock at BEGIN, so two writers
    # serialise instead of failing with "database is locked" mid-transaction.
    _db["OPTIONS"].update({"transaction_mode": "IMMEDIATE", "timeout": 20})
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured("CACHE_URL must be a redis:// or rediss:// URL.")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "pc"),
        }
    }
    # Sessions are read from the shared cache and written through to the database. Only with a
    # shared cache: a per-process cache would keep a signed-out session alive in other workers.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "organization.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "organization.backends.RolePermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Password guessing: lock a sign-in name, and separately an IP, after AXES_FAILURE_LIMIT failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Partner Center <noreply@partnercenter.local>")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# Business limits (SPEC R10). Every number the rules name is a setting with its default.
PARTNER_CENTER = {
    "INVITATION_VALID_DAYS": env_int("PC_INVITATION_VALID_DAYS", 7),
    "INVITATIONS_PER_PARTNER_PER_DAY": env_int("PC_INVITATIONS_PER_PARTNER_PER_DAY", 100),
    "PUBLIC_LINK_MAX_ACCOUNT_AGE_DAYS": env_int("PC_PUBLIC_LINK_MAX_ACCOUNT_AGE_DAYS", 7),
    "REQUEST_VALID_DAYS": env_int("PC_REQUEST_VALID_DAYS", 7),
    "COOLDOWN_MONTHS": env_int("PC_COOLDOWN_MONTHS", 3),
    "PENDING_REQUESTS_PER_ASSOCIATION": env_int("PC_PENDING_REQUESTS_PER_ASSOCIATION", 1),
    "MAX_FUNDS_AMOUNT": env_str("PC_MAX_FUNDS_AMOUNT", "1000000.00"),
    "OPERATION_PROTECTION_MINUTES": env_int("PC_OPERATION_PROTECTION_MINUTES", 10),
    "CUSTOM_ROLES_PER_PARTNER": env_int("PC_CUSTOM_ROLES_PER_PARTNER", 10),
    "EXACT_COUNT_LIMIT": env_int("PC_EXACT_COUNT_LIMIT", 10000),
    # PostgreSQL planner cost above which a list shows the estimate rather than count exactly.
    "EXACT_COUNT_MAX_COST": env_int("PC_EXACT_COUNT_MAX_COST", 1000),
    # How long an estimated count ("About N") is reused for the same list and filters; 0: never.
    "ESTIMATE_CACHE_SECONDS": env_int("PC_ESTIMATE_CACHE_SECONDS", 60),
    # A CSV export is one COPY statement that lasts as long as the download.
    "EXPORT_STATEMENT_TIMEOUT_MS": env_int("PC_EXPORT_STATEMENT_TIMEOUT_MS", 600000),
    "PAGE_SIZE": env_int("PC_PAGE_SIZE", 50),
    "PARTNER_TOKEN_TTL_SECONDS": env_int("PC_PARTNER_TOKEN_TTL_SECONDS", 3600),
    "CUSTOMER_TOKEN_TTL_SECONDS": env_int("PC_CUSTOMER_TOKEN_TTL_SECONDS", 3600),
    "API_REGISTRATIONS_PER_CLIENT": env_int("PC_API_REGISTRATIONS_PER_CLIENT", 20),
    "API_REGISTRATION_PERIOD_SECONDS": env_int("PC_API_REGISTRATION_PERIOD_SECONDS", 3600),
}
