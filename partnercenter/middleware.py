"""Request-wide middleware: a request id on every request (NetBox style) and the client's
address (``partnercenter.clientip``) for operation records."""
import re
import uuid

from asgiref.local import Local

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
