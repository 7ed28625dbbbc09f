"""Where a webhook may go, and the one HTTP request that delivers it.

A URL is refused unless it is HTTPS (HTTP only with ``WEBHOOKS_ALLOW_HTTP``) and every address
its host resolves to is a public one: loopback, private, link-local, multicast, reserved and
unspecified addresses are refused unless ``WEBHOOKS_ALLOW_PRIVATE`` (local use, tests). The
check runs when an endpoint is saved and again before every attempt, and the connection goes to
the very address that was checked (the host name is resolved once: a DNS answer that changes
between the check and the connection cannot point the request inside). The request is
urllib3's (the HTTP library under ``requests``), whose pools take the address to connect to
apart from the host name used for TLS (SNI, certificate check) and the ``Host`` header:
short connect and read timeouts, no retries of its own, no redirects followed."""
import ipaddress
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

USER_AGENT = "PartnerCenter-Webhooks/1"
MAX_POOLS = 256
# What is kept of a response body for the delivery log.
KEPT_RESPONSE_CHARS = 500


class UnsafeURL(Exception):
    """The URL may not be called (scheme, or an address inside the network)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP address the connection goes to

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified)


def _split(url: str):
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 (raises on a malformed IPv6 literal)
    except ValueError:
        raise UnsafeURL(_("The URL is not valid.")) from None
    return parts


def check_scheme(url: str) -> None:
    scheme = _split(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and settings.WEBHOOKS_ALLOW_HTTP):
        return
    raise UnsafeURL(_("The URL must start with https://."))


def resolve(url: str) -> Target:
    """The URL's target, its host resolved and checked; ``UnsafeURL`` when it may not be called."""
    check_scheme(url)
    parts = _split(url)
    if not parts.hostname:
        raise UnsafeURL(_("The URL has no host name."))
    if parts.username or parts.password:
        raise UnsafeURL(_("The URL may not carry a user name or password."))
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise UnsafeURL(_("The URL's port is not valid.")) from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(_("The URL's host name does not resolve.")) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not settings.WEBHOOKS_ALLOW_PRIVATE and not all(_public(a) for a in addresses):
        raise UnsafeURL(_("The URL's host resolves to a loopback, private or link-local address."))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme.lower(), parts.hostname, port, path, addresses[0])


_pools: "OrderedDict[tuple, urllib3.HTTPConnectionPool]" = OrderedDict()
_pools_lock = threading.Lock()


def _pool(target: Target) -> urllib3.HTTPConnectionPool:
    key = (target.scheme, target.address, target.port, target.host)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is not None:
            _pools.move_to_end(key)
            return pool
        common = {"port": target.port, "maxsize": 2, "block": False, "retries": False}
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                target.address, server_hostname=target.host, assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), **common,
            )
        else:
            pool = urllib3.HTTPConnectionPool(target.address, **common)
        _pools[key] = pool
        while len(_pools) > MAX_POOLS:
            _pools.popitem(last=False)[1].close()
        return pool


@dataclass
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(target: Target, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to the checked ``target``; never raises for network trouble."""
    config = settings.PARTNER_CENTER
    timeout = urllib3.Timeout(connect=config["WEBHOOK_CONNECT_TIMEOUT_SECONDS"],
                              read=config["WEBHOOK_READ_TIMEOUT_SECONDS"])
    all_headers = {"Host": target.host_header, "User-Agent": USER_AGENT, "Content-Type": "application/json",
                   **headers}
    started = time.monotonic()
    try:
        response = _pool(target).urlopen(
            "POST", target.path, body=body, headers=all_headers, timeout=timeout, retries=False, redirect=False,
            assert_same_host=False, preload_content=False,
        )
        try:
            text = response.read(KEPT_RESPONSE_CHARS * 4, decode_content=False).decode("utf-8", "replace")
        finally:
            response.drain_conn()
            response.release_conn()
    except Exception as exc:  # noqa: BLE001 (every failure is logged on the delivery and retried)
        return Outcome(None, _ms(started), f"{type(exc).__name__}: {exc}"[:2000])
    latency = _ms(started)
    if 200 <= response.status < 300:
        return Outcome(response.status, latency)
    if 300 <= response.status < 400:
        return Outcome(response.status, latency, _("Redirects are not followed (to %(location)s).")
                       % {"location": response.headers.get("Location", "?")})
    return Outcome(response.status, latency, text[:KEPT_RESPONSE_CHARS])


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
