"""``Idempotency-Key`` on API v1's POSTs: the same key and body within 24 hours get the first
successful answer again and change nothing; the same key with another body is a 422; a
request still running under the key is a 409. Keys are per caller (partner, member and, for
a customer token, customer), stored in ``api.IdempotencyKey``."""
import hashlib
import re
from datetime import timedelta
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.decorators import decorate_view

from api.auth import authenticate_bearer
from api.errors import ApiError
from api.models import IdempotencyKey

HEADER = "Idempotency-Key"
LIFETIME = timedelta(hours=24)
KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _scope(request) -> str | None:
    try:
        token = authenticate_bearer(request)
    except ApiError:
        return None  # the operation itself answers 401
    return f"{token.partner_id}:{token.member_id}:{token.customer_id or ''}"


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _claim(scope: str, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """The key's row, and whether this request inserted it (and so runs the operation)."""
    now = timezone.now()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(scope=scope, key=key, fingerprint=fingerprint)
            # The caller's keys past their lifetime are never replayed again.
            IdempotencyKey.objects.filter(scope=scope, created_at__lte=now - LIFETIME).delete()
            return row, True
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(scope=scope, key=key).first()
            if existing is None:
                continue  # freed meanwhile: try again
            if existing.created_at > now - LIFETIME:
                return existing, False
            # Expired: it no longer counts. Deleting only that row (by its creation time)
            # lets one of two racing requests win the new insert.
            IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
    raise ApiError(409, "idempotency_key_in_use", _in_use())


def _in_use() -> str:
    return _("A request with this Idempotency-Key is still being processed. Retry in a moment.")


def _replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.body), status=row.status_code, content_type=row.content_type)
    response["Cache-Control"] = "no-store"
    response["Idempotent-Replayed"] = "true"
    return response


def guard(run):
    """Wraps an operation's ``run`` (``ninja.decorators.decorate_view``)."""

    @wraps(run)
    def wrapper(request, *args, **kwargs):
        from api.v1.api import api

        key = request.headers.get(HEADER)
        if key is None:
            return run(request, *args, **kwargs)
        if not KEY.match(key):
            return api.problem_response(
                request,
                ApiError(400, "invalid_idempotency_key",
                         _("Use 1–255 visible ASCII characters as the Idempotency-Key."),
                         fields={HEADER: [_("Use 1–255 visible ASCII characters.")]}),
            )
        scope = _scope(request)
        if scope is None:
            return run(request, *args, **kwargs)
        try:
            fingerprint = _fingerprint(request)
        except RequestDataTooBig:
            return run(request, *args, **kwargs)  # which answers the 400 itself
        try:
            row, mine = _claim(scope, key, fingerprint)
        except ApiError as error:
            return api.problem_response(request, error)
        if not mine:
            if row.fingerprint != fingerprint:
                return api.problem_response(request, ApiError(
                    422, "idempotency_key_reused",
                    _("This Idempotency-Key was used for another request. Use a new key for a new request."),
                ))
            if row.status_code is None:
                return api.problem_response(request, ApiError(409, "idempotency_key_in_use", _in_use()))
            return _replay(row)
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            IdempotencyKey.objects.filter(pk=row.pk).delete()
            raise
        if 200 <= response.status_code < 300 and not response.streaming:
            IdempotencyKey.objects.filter(pk=row.pk).update(
                status_code=response.status_code,
                content_type=response.get("Content-Type", ""),
                body=response.content,
            )
        else:
            IdempotencyKey.objects.filter(pk=row.pk).delete()
        return response

    return wrapper


# On an operation: ``@idempotent`` under the router's decorator.
idempotent = decorate_view(guard)
