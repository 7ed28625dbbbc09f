"""The registration limit per client (SPEC R29), shared by every server process.

Periods are fixed windows aligned to the epoch. With a shared cache (CACHE_URL, Redis) the
count is one atomic INCR per attempt; without one it is a database row incremented under a
row lock. Never per-process memory: with several workers that would multiply the limit."""
import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from api.models import RegistrationWindow


@dataclass
class Verdict:
    allowed: bool
    retry_after: int


def registration_attempt(client: str) -> Verdict:
    """Count one registration attempt by ``client`` and say whether it is within the limit."""
    limit = settings.PARTNER_CENTER["API_REGISTRATIONS_PER_CLIENT"]
    period = settings.PARTNER_CENTER["API_REGISTRATION_PERIOD_SECONDS"]
    now = int(time.time())
    window = now - now % period
    key = hashlib.sha256(client.encode()).hexdigest()
    take = _take_from_cache if settings.CACHE_URL else _take_from_database
    return Verdict(allowed=take(key, window, period, limit), retry_after=window + period - now)


def _take_from_cache(key: str, window: int, period: int, limit: int) -> bool:
    cache_key = f"api:registrations:{key}:{window}"
    # add() only creates the counter; incr() is atomic in Redis, so concurrent processes
    # each get their own number. The counter outlives its window a little and then expires.
    cache.add(cache_key, 0, timeout=period + 60)
    return cache.incr(cache_key) <= limit


def _take_from_database(key: str, window: int, period: int, limit: int) -> bool:
    start = datetime.fromtimestamp(window, tz=UTC)
    with transaction.atomic():
        row, created = RegistrationWindow.objects.select_for_update().get_or_create(client=key, window_start=start)
        if created:
            # Past periods are never read again; dropping them keeps the table to one period.
            RegistrationWindow.objects.filter(window_start__lt=start).delete()
        if row.count >= limit:
            return False
        RegistrationWindow.objects.filter(pk=row.pk).update(count=F("count") + 1)
    return True
