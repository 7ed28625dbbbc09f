"""Request-wide middleware: a request id on every request (NetBox style), the client's address
(``partnercenter.clientip``) for operation records, and the user's time zone."""
import re
import uuid
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from asgiref.local import Local
from django.utils import timezone

from partnercenter.clientip import client_ip

_local = Local()
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str:
    """The id of the request being served in this thread, or "" outside a request."""
    return getattr(_local, "request_id", "")


def current_ip() -> str | None:
    return getattr(_local, "ip", None)


class RequestIdMiddleware:
    """Gives each request an id (kept from a well-formed X-Request-ID header, else new),
    exposes it to operation records and returns it as the X-Request-ID response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        _local.request_id = request.id
        _local.ip = client_ip(request)
        try:
            response = self.get_response(request)
        finally:
            _local.request_id = ""
            _local.ip = None
        response["X-Request-ID"] = request.id
        return response


TIME_ZONE_COOKIE = "pc_tz"


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def valid_time_zone(name: str) -> str:
    """``name`` when it is an IANA time zone this machine knows, else ""."""
    return name if name and name in known_time_zones() else ""


class TimeZoneMiddleware:
    """Shows dates and times in the user's time zone: their profile's, else the browser's
    (``static/js/timezone.js`` keeps it in the ``pc_tz`` cookie), else ``TIME_ZONE``.
    Stored values and exports stay in UTC; only rendering changes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        chosen = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
        name = valid_time_zone(chosen) or valid_time_zone(request.COOKIES.get(TIME_ZONE_COOKIE, ""))
        if name:
            timezone.activate(ZoneInfo(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
