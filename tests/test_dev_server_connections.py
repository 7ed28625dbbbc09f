"""Database connections under the two servers: runserver starts a thread per request, so a
connection kept past the request is never used again (it leaked until PostgreSQL refused new
clients); gunicorn reuses its threads, and only there are connections kept (gunicorn.conf.py)."""
import runpy
import socketserver
import threading
import time
import urllib.request

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer, get_internal_wsgi_application
from django.db import connection
from django.test import Client
from django.urls import reverse


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def _other_connections() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cur.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_development_server_holds_no_database_connection_after_its_requests(admin_member):
    # The server runserver builds (django.core.servers.basehttp.run): a thread per request.
    server_class = type("WSGIServer", (socketserver.ThreadingMixIn, WSGIServer), {"daemon_threads": True})
    httpd = server_class(("127.0.0.1", 0), _QuietHandler, ipv6=False)
    httpd.set_app(get_internal_wsgi_application())
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        signed_in = Client()
        signed_in.force_login(admin_member, backend="organization.backends.RolePermissionBackend")
        cookie = f"{settings.SESSION_COOKIE_NAME}={signed_in.cookies[settings.SESSION_COOKIE_NAME].value}"
        url = f"http://127.0.0.1:{httpd.server_address[1]}{reverse('customers:list')}"
        for _ in range(5):
            request = urllib.request.Request(url, headers={"Cookie": cookie})
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own server)
                assert response.status == 200
        deadline = time.monotonic() + 5
        while _other_connections() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _other_connections() == 0
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_connections_are_kept_only_when_asked_for_or_under_gunicorn(monkeypatch):
    monkeypatch.delenv("CONN_MAX_AGE", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://app@127.0.0.1:5432/partnercenter")
    assert runpy.run_path(str(settings.BASE_DIR / "partnercenter" / "settings.py"))["DATABASES"]["default"][
        "CONN_MAX_AGE"
    ] == 0
    runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
    assert runpy.run_path(str(settings.BASE_DIR / "partnercenter" / "settings.py"))["DATABASES"]["default"][
        "CONN_MAX_AGE"
    ] == 60
