"""The shared cache may fail: with Redis refusing, hanging or coming back, the portal and the
API keep working from the database (partnercenter/cache.py)."""
import json
import logging
import socket
import socketserver
import threading
import time
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from api import services
from partnercenter import factories as f
from partnercenter.cache import CacheUnavailable, FailSafeRedisCache

from .api_helpers import CUSTOMERS, TOKENS, bearer, post_json

CACHED_DB = "partnercenter.sessions.cached_db"


def _use_cache(settings, location, *, timeout=0.2, retry_seconds=60):
    settings.CACHE_URL = location
    settings.SESSION_ENGINE = CACHED_DB
    settings.CACHES = {
        "default": {
            "BACKEND": "partnercenter.cache.FailSafeRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout, "RETRY_SECONDS": retry_seconds},
        }
    }


def _unreachable() -> str:
    """Nothing listens on port 1; a database number of its own keeps each test's failure
    state (kept per location and process) from the others."""
    return f"redis://127.0.0.1:1/{uuid.uuid4().int % 10_000}"


@pytest.fixture
def cache_unreachable(settings):
    _use_cache(settings, _unreachable())


def _member_signs_in(client, account="acme", name="admin"):
    return client.post(
        reverse("login"), {"partner_account": account, "member_name": name, "password": f.DEFAULT_PASSWORD}
    )


def test_with_the_cache_unreachable_a_member_signs_in_and_every_page_answers(
    cache_unreachable, settings, admin_member, customer
):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "EXACT_COUNT_LIMIT": 1, "PAGE_SIZE": 1}
    for i in range(3):
        f.AssociationFactory(partner=admin_member.partner, customer=f.CustomerWithUserFactory(account_name=f"c-{i}"))
    client = Client()
    response = _member_signs_in(client)
    assert response.status_code == 302, response.content[:500]
    for url in (
        reverse("customers:list"),
        reverse("customers:detail", args=[customer.pk]),
        reverse("audit:list"),
        reverse("organization:members"),
        reverse("organization:profile"),
    ):
        page = client.get(url)
        assert page.status_code == 200, (url, page.status_code)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("customers:list")).status_code == 302


def test_with_the_cache_unreachable_a_customer_signs_in_to_the_account_center(cache_unreachable, customer_user):
    client = Client()
    response = client.post(reverse("customer_login"), {"username": "cust-one", "password": f.DEFAULT_PASSWORD})
    assert response.status_code == 302
    body = client.get(reverse("account_center:home")).content
    assert b"Acme Cloud" in body


def test_with_the_cache_unreachable_the_api_issues_tokens_and_lists_customers(
    cache_unreachable, admin_member, customer
):
    client = Client()
    issued = post_json(client, TOKENS, {"partner_account": "acme", "member_name": "admin",
                                        "password": f.DEFAULT_PASSWORD})
    assert issued.status_code == 201
    listed = client.get(CUSTOMERS, **bearer(issued.json()["token"]))
    assert listed.status_code == 200
    assert [row["account_name"] for row in listed.json()["results"]] == ["cust-one"]


def test_a_session_signed_in_while_the_cache_failed_is_read_from_the_database(settings, admin_member):
    location = _unreachable()
    _use_cache(settings, location)
    client = Client()
    assert _member_signs_in(client).status_code == 302
    assert client.get(reverse("customers:list")).status_code == 200


class _NeverAnswers:
    """A port that accepts connections (the kernel's backlog) and never says a word."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def test_a_cache_that_never_answers_costs_one_timeout_and_one_log_line(settings, caplog, admin_member):
    silent = _NeverAnswers()
    try:
        _use_cache(settings, f"redis://127.0.0.1:{silent.port}/0", timeout=0.3, retry_seconds=60)
        client = Client()
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="partnercenter.cache"):
            assert _member_signs_in(client).status_code == 302
            for _ in range(5):
                assert client.get(reverse("customers:list")).status_code == 200
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    warnings = [r for r in caplog.records if r.name == "partnercenter.cache"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "TimeoutError" in warnings[0].getMessage()
    # One socket timeout (0.3 s), then the cache is left alone for RETRY_SECONDS.
    assert elapsed < 2.5


def test_counters_refuse_while_the_cache_fails(settings):
    _use_cache(settings, _unreachable())
    from django.core.cache import caches

    cache = caches["default"]
    assert isinstance(cache, FailSafeRedisCache)
    assert cache.add("n", 0) is False
    with pytest.raises(CacheUnavailable):
        cache.incr("n")


# A cache that goes away and comes back ----------------------------------------------------------
class _Forwarder:
    """A TCP relay to the local Redis that can be cut (every connection closed, new ones
    refused) and restored on the same port, as a network partition would."""

    def __init__(self, target=("127.0.0.1", 6379)):
        self.target = target
        self.port = None
        self.server = None
        self.open = []
        self.start()

    def start(self):
        relay = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                upstream = socket.create_connection(relay.target)
                relay.open += [self.request, upstream]

                def pipe(a, b):
                    try:
                        while data := a.recv(65536):
                            b.sendall(data)
                    except OSError:
                        pass
                    finally:
                        for s in (a, b):
                            try:
                                s.shutdown(socket.SHUT_RDWR)
                            except OSError:
                                pass

                back = threading.Thread(target=pipe, args=(upstream, self.request), daemon=True)
                back.start()
                pipe(self.request, upstream)
                back.join()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port or 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def cut(self):
        self.server.shutdown()
        self.server.server_close()
        for s in self.open:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.open = []


@pytest.fixture
def redis_relay():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.fail("this test needs the local Redis on 127.0.0.1:6379 (CI runs one)")
    relay = _Forwarder()
    yield relay
    relay.cut()


def test_a_session_signed_out_while_the_cache_was_away_does_not_come_back_with_it(settings, redis_relay, admin_member):
    _use_cache(settings, f"redis://127.0.0.1:{redis_relay.port}/2", retry_seconds=0)
    client = Client()
    assert _member_signs_in(client).status_code == 302
    assert client.get(reverse("customers:list")).status_code == 200  # the session is now in Redis
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    redis_relay.cut()
    assert client.post(reverse("logout")).status_code == 302  # deleted from the database only
    redis_relay.start()

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert replay.get(reverse("customers:list")).status_code == 302


def test_an_unhandled_error_under_the_api_is_json(settings, admin_member):
    settings.ROOT_URLCONF = "tests.urls_failing"
    client = Client(raise_request_exception=False)
    token = services.partner_token_create(member=admin_member)[1]
    response = client.get("/api/failing", **bearer(token), HTTP_X_REQUEST_ID="0123456789abcdef0123456789abcdef")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert problem["code"] == "server_error" and "0123456789abcdef0123456789abcdef" in problem["detail"]
    page = client.get("/failing")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
