"""Settings for the benchmark and the load run: the product's settings in production mode
(DEBUG off) plus one bench-only URL, the bare keyset page the list pages are compared with.

Everything still comes from the environment (``DATABASE_URL`` above all); this module only
supplies what production would have to supply itself: a secret key and the host names."""
import os
import secrets

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(48))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# Production runs with the shared cache (sessions, estimated counts, rate limits); so does
# the benchmark, on this machine's Redis unless CACHE_URL says otherwise.
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/3")
# Loopback HTTP only: no TLS in front of the load run.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from partnercenter.settings import *  # noqa: E402,F403
from partnercenter.settings import BASE_DIR, TEMPLATES  # noqa: E402

ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]
# The load run's session cookie travels over plain HTTP on loopback.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
