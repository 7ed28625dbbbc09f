"""The client's address, the same for sign-in throttling, rate limits and operation records.

Behind ``TRUSTED_PROXY_COUNT`` proxies (the README's TLS proxy is one) the socket's peer is the
nearest proxy, and each proxy appends the address it received the request from to
``X-Forwarded-For``. The client is therefore the entry that the outermost trusted proxy
appended: the ``TRUSTED_PROXY_COUNT``-th from the right. Everything left of it was written by
the client and is ignored, so it cannot be spoofed; with a count of 0 the header is not read
at all. django-ipware picks the entry: it counts the proxies named *inside* the header, which
are all but the nearest one (that one is ``REMOTE_ADDR``)."""
from django.conf import settings
from ipware import get_client_ip

_ATTRIBUTE = "_partnercenter_client_ip"


def client_ip(request) -> str | None:
    """The client's IP address as a string, or None when the request carries none."""
    try:
        return getattr(request, _ATTRIBUTE)
    except AttributeError:
        pass
    address = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded, _routable = get_client_ip(
            request,
            proxy_count=proxies - 1,
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            # Not strict: a client that sends its own X-Forwarded-For makes the chain longer
            # than the proxy count; its entries are simply not read.
            strict=False,
        )
        # Without the header (a request that bypassed the proxies) the peer is the client.
        address = forwarded or address
    setattr(request, _ATTRIBUTE, address)
    return address
