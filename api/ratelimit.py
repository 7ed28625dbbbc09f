"""Rate limits on creating accounts (SPEC R29, issue 15), shared by every server process.

Two things are limited, each per period and per several keys at once:

- API registrations (``POST /api/customers``): per API key (or, for a token got with a
  password, per member), per client id (``X-Client-Id``) and per client address;
- sign-ups through an invitation or a partner's public link: per client address.

Use :func:`registration_slots` / :func:`sign_up_slot` around the creation::

    with ratelimit.registration_slots(token=..., client_id=..., ip=...):
        services.customer_register(...)

A slot is taken on every key before the creation, so concurrent requests cannot overrun a
limit; when any key is full nothing is taken (``LimitExceeded``), and when the creation is
refused or crashes (any exception) every slot it took is given back. When the shared cache
does not answer the limit cannot be counted: ``Unavailable`` is raised and logged, and callers
answer 503 / a form error rather than letting everyone through or failing with a 500.

Periods are fixed windows aligned to the epoch. With a shared cache (CACHE_URL, Redis) a
count is one atomic INCR; without one it is a database row changed under a row lock. Never
per-process memory: with several workers that would multiply the limit."""
import hashlib
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from redis.exceptions import RedisError

from api.models import RegistrationWindow

log = logging.getLogger(__name__)


class LimitExceeded(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


class Unavailable(Exception):
    """The shared cache that holds the counts did not answer."""


@dataclass(frozen=True)
class Limit:
    """A number of attempts (``PARTNER_CENTER[count_setting]``) per period of
    ``PARTNER_CENTER[period_setting]`` seconds."""

    name: str
    count_setting: str
    period_setting: str

    @property
    def count(self) -> int:
        return settings.PARTNER_CENTER[self.count_setting]

    @property
    def period(self) -> int:
        return settings.PARTNER_CENTER[self.period_setting]


REGISTRATIONS_PER_KEY = Limit("registrations:key", "API_REGISTRATIONS_PER_KEY", "API_REGISTRATION_PERIOD_SECONDS")
REGISTRATIONS_PER_CLIENT = Limit(
    "registrations:client", "API_REGISTRATIONS_PER_CLIENT", "API_REGISTRATION_PERIOD_SECONDS"
)
REGISTRATIONS_PER_IP = Limit("registrations:ip", "API_REGISTRATIONS_PER_IP", "API_REGISTRATION_PERIOD_SECONDS")
SIGN_UPS_PER_IP = Limit("sign-ups:ip", "SIGN_UPS_PER_IP", "SIGN_UP_PERIOD_SECONDS")
LIMITS = [REGISTRATIONS_PER_KEY, REGISTRATIONS_PER_CLIENT, REGISTRATIONS_PER_IP, SIGN_UPS_PER_IP]


@dataclass(frozen=True)
class _Slot:
    key: str  # a digest: client ids and addresses are not kept in clear
    window: int
    period: int
    limit: int
    now: int

    @property
    def retry_after(self) -> int:
        return self.window + self.period - self.now

    @property
    def cache_key(self) -> str:
        return f"ratelimit:{self.key}:{self.window}"

    @property
    def window_start(self) -> datetime:
        return datetime.fromtimestamp(self.window, tz=UTC)


def _slot(limit: Limit, value: str, now: int) -> _Slot:
    period = limit.period
    key = hashlib.sha256(f"{limit.name}:{value}".encode()).hexdigest()
    return _Slot(key=key, window=now - now % period, period=period, limit=limit.count, now=now)


@contextmanager
def slots(wanted: list[tuple[Limit, str]]):
    """Take one slot of each ``(limit, value)`` for the duration of the block; give them back
    if the block raises. Raises ``LimitExceeded`` or ``Unavailable`` before the block runs."""
    now = int(time.time())
    taken = [_slot(limit, value, now) for limit, value in wanted]
    if settings.CACHE_URL:
        _take_from_cache(taken)
    else:
        _take_from_database(taken)
    try:
        yield
    except BaseException:
        _give_back(taken)
        raise


def registration_slots(*, key: str, client_id: str | None, ip: str | None):
    """Slots for one API registration: ``key`` names the credential (API key or member),
    ``client_id`` the ``X-Client-Id`` header (if sent), ``ip`` the client's address."""
    wanted = [(REGISTRATIONS_PER_KEY, key), (REGISTRATIONS_PER_IP, ip or "")]
    if client_id is not None:
        wanted.append((REGISTRATIONS_PER_CLIENT, client_id))
    return slots(wanted)


def sign_up_slot(*, ip: str | None):
    """A slot for one customer sign-up through an invitation or a public link."""
    return slots([(SIGN_UPS_PER_IP, ip or "")])


def _take_from_cache(taken: list[_Slot]) -> None:
    done = []
    try:
        for slot in taken:
            # add() only creates the counter; incr() is atomic in Redis, so concurrent processes
            # each get their own number. The counter outlives its window a little, then expires.
            cache.add(slot.cache_key, 0, timeout=slot.period + 60)
            if cache.incr(slot.cache_key) > slot.limit:
                cache.decr(slot.cache_key)  # a refused attempt uses up nothing
                _give_back(done)
                raise LimitExceeded(slot.retry_after)
            done.append(slot)
    except (RedisError, OSError) as error:
        log.error("Rate limit not counted, the shared cache did not answer: %s", error)
        _give_back(done)
        raise Unavailable from error


def _take_from_database(taken: list[_Slot]) -> None:
    longest = max(limit.period for limit in LIMITS)
    with transaction.atomic():
        # One order for every request, so two requests never wait on each other's rows.
        for slot in sorted(taken, key=lambda s: (s.key, s.window)):
            row, created = RegistrationWindow.objects.select_for_update().get_or_create(
                client=slot.key, window_start=slot.window_start
            )
            if created:
                # A window is never read again once the longest period has passed since it began.
                RegistrationWindow.objects.filter(
                    window_start__lt=datetime.fromtimestamp(slot.now - longest, tz=UTC)
                ).delete()
            if row.count >= slot.limit:
                # Leaving the block rolls back the slots already taken in it.
                raise LimitExceeded(slot.retry_after)
            RegistrationWindow.objects.filter(pk=row.pk).update(count=F("count") + 1)


def _give_back(taken: list[_Slot]) -> None:
    if not taken:
        return
    if settings.CACHE_URL:
        try:
            for slot in taken:
                cache.decr(slot.cache_key)
        except (RedisError, OSError, ValueError) as error:
            log.error("A rate limit slot could not be given back: %s", error)
        return
    for slot in taken:
        RegistrationWindow.objects.filter(client=slot.key, window_start=slot.window_start, count__gt=0).update(
            count=F("count") - 1
        )
