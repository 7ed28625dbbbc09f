"""Settings for Partner Center, read from the environment.

Every variable has a safe default for local use. A value that cannot be parsed stops the
process with a message naming the variable, and with DEBUG off an unsafe secret key is
refused (see partnercenter.checks).
"""
from decimal import Decimal
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from partnercenter.env import env_amount, env_bool, env_int, env_list, env_str

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
    "csp",
    "partnercenter.apps.PartnerCenterConfig",
    "organization",
    "customers",
    "audit",
    "api",
    "django_tasks",
    "django_tasks_db",
    "notifications",
    "webhooks",
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
    "partnercenter.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
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
    {
        # The rows of the lists (DEVELOPERS.md, rule 13): templates/jinja2/, files named *.jinja.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "partnercenter.jinja.environment"},
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'partnercenter.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections only where the server reuses its threads: gunicorn.conf.py sets 60.
    # runserver starts a thread per request, and each would leave its connection open.
    _db["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 0, minimum=0, maximum=86400)
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})
    # Every statement has an upper bound; a runaway query cannot hold a worker forever. JIT
    # compilation costs more than it saves on these short queries (bench/postgresql.conf).
    _statement_timeout = env_int("DB_STATEMENT_TIMEOUT_MS", 30000, minimum=1, maximum=86400000)
    _db["OPTIONS"].setdefault("options", f"-c statement_timeout={_statement_timeout} -c jit=off")
    # The hand-written statements on every page's path (partnercenter/statements.py) run as
    # prepared statements, planned once per connection; the ORM's queries never are (Django's
    # client-side cursors do not prepare). Off behind a pooler that cannot keep them
    # (PgBouncer in transaction mode without max_prepared_statements).
    _db["OPTIONS"].setdefault("prepare_threshold", 5 if env_bool("DB_PREPARED_STATEMENTS", True) else None)
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
            # Redis may fail: value operations then answer as a miss (partnercenter/cache.py).
            "BACKEND": "partnercenter.cache.FailSafeRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "pc"),
            "OPTIONS": {
                # A Redis that does not answer holds a request this long, then not again for
                # RETRY_SECONDS.
                "socket_connect_timeout": env_int("CACHE_CONNECT_TIMEOUT_MS", 500, minimum=1, maximum=60000) / 1000,
                "socket_timeout": env_int("CACHE_TIMEOUT_MS", 500, minimum=1, maximum=60000) / 1000,
                "RETRY_SECONDS": env_int("CACHE_RETRY_SECONDS", 5, minimum=0, maximum=3600),
            },
        }
    }
    # Sessions are read from the shared cache and written through to the database; when the
    # cache fails they are read from the database. Only with a shared cache: a per-process
    # cache would keep a signed-out session alive in other workers.
    # Django's engines, written once on sign-in (partnercenter/sessions).
    SESSION_ENGINE = "partnercenter.sessions.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "partnercenter.sessions.db"

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

# The client's address is the one the outermost of this many trusted proxies saw
# (partnercenter.clientip); 0: the socket's peer, X-Forwarded-For ignored.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=20)

# Password guessing (organization.lockout): lock an account, and separately a client address,
# after AXES_FAILURE_LIMIT failures; a success clears the failures of its own account only.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1, maximum=1000)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1, maximum=525600) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "organization.lockout.account_key"
AXES_CLIENT_IP_CALLABLE = "partnercenter.clientip.client_ip"
AXES_HANDLER = "organization.lockout.AccountLockoutHandler"
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
# Browser libraries come from npm (package.json; `npm ci` puts them in node_modules/).
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist")]
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
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
# Seconds a connection to the mail server may stall before sending fails: mail goes out after
# the commit of the request that sends it, which a stalled server must not hold forever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1, maximum=300)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Partner Center <noreply@partnercenter.local>")

# Background work (notifications/): Django's Tasks API through the django-tasks backport. The
# default queue is a table in the portal's database (django-tasks-db), so a task enqueued in a
# service commits or rolls back with the change that caused it; `rq` queues on Redis (RQ_URL)
# through django-tasks-rq; `immediate` runs each task at once in the process that enqueues it
# (the tests). See README, "Background work".
TASKS_BACKEND = env_str("TASKS_BACKEND", "database")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {TASKS_BACKEND!r}.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
RQ_URL = env_str("RQ_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": RQ_URL, "DEFAULT_TIMEOUT": 600}}
if TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]

# Webhooks (webhooks/net.py): endpoints must be HTTPS and resolve to public addresses. Local
# use and the tests (DEBUG) may call http:// URLs and loopback or private addresses.
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", DEBUG)
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", DEBUG)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "partnercenter.views.csrf_failure"
# Scripts and styles come only from our own static files: no inline script, handler or style
# anywhere (tests/test_security_headers.py reads every template for them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0, maximum=315360000)
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

# The largest value a MONEY column holds (customers.funds.MONEY_LIMIT; settings cannot import it).
_MONEY_LIMIT = Decimal("999999999999.99")

# Business limits (SPEC R10). Every number the rules name is a setting with its default.
PARTNER_CENTER = {
    "INVITATION_VALID_DAYS": env_int("PC_INVITATION_VALID_DAYS", 7, minimum=1, maximum=365),
    "INVITATIONS_PER_PARTNER_PER_DAY": env_int("PC_INVITATIONS_PER_PARTNER_PER_DAY", 100, minimum=1, maximum=100000),
    "PUBLIC_LINK_MAX_ACCOUNT_AGE_DAYS": env_int("PC_PUBLIC_LINK_MAX_ACCOUNT_AGE_DAYS", 7, minimum=0, maximum=3650),
    "REQUEST_VALID_DAYS": env_int("PC_REQUEST_VALID_DAYS", 7, minimum=1, maximum=365),
    "COOLDOWN_MONTHS": env_int("PC_COOLDOWN_MONTHS", 3, minimum=0, maximum=120),
    "PENDING_REQUESTS_PER_ASSOCIATION": env_int("PC_PENDING_REQUESTS_PER_ASSOCIATION", 1, minimum=1, maximum=100),
    "MAX_FUNDS_AMOUNT": env_amount(
        "PC_MAX_FUNDS_AMOUNT", "1000000.00", minimum=Decimal("0.01"), maximum=_MONEY_LIMIT
    ),
    # Reseller controls (issue 20): the largest monthly budget, and the largest batch.
    "MAX_BUDGET_AMOUNT": env_amount(
        "PC_MAX_BUDGET_AMOUNT", "10000000.00", minimum=Decimal("0.01"), maximum=_MONEY_LIMIT
    ),
    # The vendor billing system's key for posting usage through the API; empty: closed.
    "BILLING_API_KEY": env_str("PC_BILLING_API_KEY", ""),
    "BATCH_MAX_ROWS": env_int("PC_BATCH_MAX_ROWS", 10000, minimum=1, maximum=1000000),
    # Threads (each its own database connection) a background batch applies its rows on.
    "BATCH_WORKERS": env_int("PC_BATCH_WORKERS", 4, minimum=1, maximum=32),
    # On forked processes instead of threads (a row's Python then runs on every core).
    "BATCH_PROCESSES": env_bool("PC_BATCH_PROCESSES", False),
    "OPERATION_PROTECTION_MINUTES": env_int("PC_OPERATION_PROTECTION_MINUTES", 10, minimum=1, maximum=1440),
    "CUSTOM_ROLES_PER_PARTNER": env_int("PC_CUSTOM_ROLES_PER_PARTNER", 10, minimum=0, maximum=1000),
    "EXACT_COUNT_LIMIT": env_int("PC_EXACT_COUNT_LIMIT", 10000, minimum=1, maximum=10000000),
    # PostgreSQL planner cost above which a list shows the estimate rather than count exactly.
    "EXACT_COUNT_MAX_COST": env_int("PC_EXACT_COUNT_MAX_COST", 1000, minimum=1, maximum=1000000000),
    # How long an estimated count ("About N") is reused for the same list and filters; 0: never.
    "ESTIMATE_CACHE_SECONDS": env_int("PC_ESTIMATE_CACHE_SECONDS", 60, minimum=0, maximum=86400),
    # A CSV export is one COPY statement that lasts as long as the download.
    "EXPORT_STATEMENT_TIMEOUT_MS": env_int("PC_EXPORT_STATEMENT_TIMEOUT_MS", 600000, minimum=1, maximum=86400000),
    "PAGE_SIZE": env_int("PC_PAGE_SIZE", 50, minimum=1, maximum=1000),
    # How long the partner home's charts are reused (0: read on every visit).
    "PARTNER_TOKEN_TTL_SECONDS": env_int("PC_PARTNER_TOKEN_TTL_SECONDS", 3600, minimum=60, maximum=86400),
    "CUSTOMER_TOKEN_TTL_SECONDS": env_int("PC_CUSTOMER_TOKEN_TTL_SECONDS", 3600, minimum=60, maximum=86400),
    # Account creation limits (api.ratelimit): API registrations per X-Client-Id, per client
    # address and per API key (or member), and sign-ups through a link per client address.
    "API_REGISTRATIONS_PER_CLIENT": env_int("PC_API_REGISTRATIONS_PER_CLIENT", 20, minimum=1, maximum=1000000),
    "API_REGISTRATIONS_PER_IP": env_int("PC_API_REGISTRATIONS_PER_IP", 20, minimum=1, maximum=1000000),
    "API_REGISTRATIONS_PER_KEY": env_int("PC_API_REGISTRATIONS_PER_KEY", 200, minimum=1, maximum=1000000),
    "API_REGISTRATION_PERIOD_SECONDS": env_int("PC_API_REGISTRATION_PERIOD_SECONDS", 3600, minimum=1, maximum=31536000),
    "SIGN_UPS_PER_IP": env_int("PC_SIGN_UPS_PER_IP", 5, minimum=1, maximum=1000000),
    "SIGN_UP_PERIOD_SECONDS": env_int("PC_SIGN_UP_PERIOD_SECONDS", 3600, minimum=1, maximum=31536000),
    # E-mail through the queue (notifications.email): a failed sending is tried again after
    # EMAIL_RETRY_FIRST_SECONDS, then twice as long each time (at most an hour apart), until
    # EMAIL_RETRY_HOURS after the e-mail was queued; then it is marked failed in the admin.
    "EMAIL_RETRY_HOURS": env_int("PC_EMAIL_RETRY_HOURS", 24, minimum=1, maximum=720),
    "EMAIL_RETRY_FIRST_SECONDS": env_int("PC_EMAIL_RETRY_FIRST_SECONDS", 30, minimum=1, maximum=3600),
    # A task claimed by a worker that has not finished after this long is taken to be lost with
    # its worker (killed, machine gone): the scheduler's sweep queues its work again. Keep it
    # well above the longest task (an e-mail: a few times EMAIL_TIMEOUT).
    "TASK_STALE_SECONDS": env_int("PC_TASK_STALE_SECONDS", 600, minimum=1, maximum=86400),
    # How often the scheduler (manage.py run_scheduler) queues the request-expiry job.
    "EXPIRE_REQUESTS_EVERY_SECONDS": env_int("PC_EXPIRE_REQUESTS_EVERY_SECONDS", 300, minimum=10, maximum=86400),
    # Webhooks (webhooks/delivery.py): a failed delivery is tried again after
    # WEBHOOK_RETRY_FIRST_SECONDS, then twice as long each time (at most WEBHOOK_RETRY_MAX_SECONDS
    # apart), for WEBHOOK_RETRY_HOURS (3 days); an endpoint whose every delivery failed that long
    # is disabled and its partner's administrators get an e-mail. The log keeps WEBHOOK_LOG_DAYS.
    "WEBHOOK_RETRY_HOURS": env_int("PC_WEBHOOK_RETRY_HOURS", 72, minimum=1, maximum=720),
    "WEBHOOK_RETRY_FIRST_SECONDS": env_int("PC_WEBHOOK_RETRY_FIRST_SECONDS", 30, minimum=1, maximum=3600),
    "WEBHOOK_RETRY_MAX_SECONDS": env_int("PC_WEBHOOK_RETRY_MAX_SECONDS", 21600, minimum=1, maximum=86400),
    "WEBHOOK_CONNECT_TIMEOUT_SECONDS": env_int("PC_WEBHOOK_CONNECT_TIMEOUT_SECONDS", 3, minimum=1, maximum=30),
    "WEBHOOK_READ_TIMEOUT_SECONDS": env_int("PC_WEBHOOK_READ_TIMEOUT_SECONDS", 5, minimum=1, maximum=60),
    "WEBHOOK_LOG_DAYS": env_int("PC_WEBHOOK_LOG_DAYS", 30, minimum=30, maximum=3650),
    "WEBHOOK_ENDPOINTS_PER_PARTNER": env_int("PC_WEBHOOK_ENDPOINTS_PER_PARTNER", 10, minimum=1, maximum=1000),
}
