"""The shared cache (Redis) as an accelerator that may fail, never as a point of failure.

``FailSafeRedisCache`` is Django's ``RedisCache`` whose value operations answer as a miss when
Redis does not: ``get`` gives the default, ``set``/``delete`` do nothing, ``has_key`` and
``add`` say False. Every caller then does what it does on a miss: sessions are read from and
written to the database (``cached_db``), estimated counts are counted again. Counter operations
(``incr``/``decr``) raise ``CacheUnavailable`` instead, because a counter that silently stays at
zero would lift a limit; the caller decides (a rate limit refuses cleanly).

A failure is logged once, as a warning naming the operation and the error, and the process
then leaves Redis alone for ``RETRY_SECONDS`` (an OPTIONS entry, default 5): a Redis that
hangs costs one socket timeout per retry period, not one per cache call. While it fails, the
keys whose ``set`` or ``delete`` were lost are remembered (up to ``_MAX_LOST_KEYS``), and the
first call after the pause deletes them before anything is read, so a session signed out
while Redis was away does not come back from the cache when it answers again. Beyond that
many keys the whole cache database is cleared instead: it holds nothing the database cannot
rebuild.
"""
import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

logger = logging.getLogger("partnercenter.cache")

_MAX_LOST_KEYS = 10000


class CacheUnavailable(RedisConnectionError):
    """A counter operation was refused because the shared cache is failing."""


class _Health:
    """What one process knows about one Redis location, shared by all its threads (Django
    gives each thread its own cache object)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.lost_keys: set[str] = set()
        self.lost_overflow = False

    def is_resting(self) -> bool:
        return self.down_until > time.monotonic()

    def lose(self, keys):
        with self.lock:
            if self.lost_overflow:
                return
            self.lost_keys.update(keys)
            if len(self.lost_keys) > _MAX_LOST_KEYS:
                self.lost_keys.clear()
                self.lost_overflow = True


_health: dict[str, _Health] = {}
_health_lock = threading.Lock()


def _health_of(location: str) -> _Health:
    with _health_lock:
        return _health.setdefault(location, _Health())


class FailSafeRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS", {}))
        self.retry_seconds = float(options.pop("RETRY_SECONDS", 5))
        super().__init__(server, {**params, "OPTIONS": options})
        self._location = server if isinstance(server, str) else ",".join(server)
        self._health = _health_of(self._location)

    # The guard around every call to Redis.

    def _attempt(self, operation: str, call, *, lost=()):
        """Run ``call()`` against Redis; on failure (or while resting after one) remember the
        keys in ``lost`` and raise ``CacheUnavailable``."""
        health = self._health
        if health.is_resting():
            health.lose(lost)
            raise CacheUnavailable(f"the shared cache is resting after a failure ({operation})")
        try:
            self._recover()
            return call()
        except RedisError as exc:
            if not isinstance(exc, CacheUnavailable):
                self._failed(operation, exc)
            health.lose(lost)
            raise CacheUnavailable(f"the shared cache failed on {operation}: {exc}") from exc

    def _failed(self, operation: str, exc: Exception):
        with self._health.lock:
            self._health.down_until = time.monotonic() + self.retry_seconds
        logger.warning(
            "Shared cache %s failed on %s (%s: %s); working without it for %g s.",
            self._location, operation, type(exc).__name__, exc, self.retry_seconds,
        )

    def _recover(self):
        """After a failure, delete what was written or deleted while Redis was away before
        anything is read from it again."""
        health = self._health
        if not (health.lost_keys or health.lost_overflow):
            return
        with health.lock:
            keys, overflow = list(health.lost_keys), health.lost_overflow
            health.lost_keys.clear()
            health.lost_overflow = False
        try:
            if overflow:
                self._cache.clear()
            elif keys:
                self._cache.delete_many(keys)
        except RedisError:
            health.lose(keys)
            with health.lock:
                health.lost_overflow = health.lost_overflow or overflow
            raise
        logger.warning(
            "Shared cache %s answers again; %s.",
            self._location,
            "cleared it, too many entries changed while it failed" if overflow
            else f"removed {len(keys)} entries changed while it failed",
        )

    # Value operations: a failure is a miss.

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        try:
            return self._attempt("get", lambda: self._cache.get(key, default))
        except CacheUnavailable:
            return default

    def get_many(self, keys, version=None):
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        try:
            found = self._attempt("get_many", lambda: self._cache.get_many(key_map.keys()))
        except CacheUnavailable:
            return {}
        return {key_map[k]: v for k, v in found.items()}

    def has_key(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        try:
            return self._attempt("has_key", lambda: self._cache.has_key(key))
        except CacheUnavailable:
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        try:
            self._attempt("set", lambda: self._cache.set(key, value, timeout), lost=[key])
        except CacheUnavailable:
            pass

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        if not data:
            return []
        safe_data = {self.make_and_validate_key(key, version=version): value for key, value in data.items()}
        timeout = self.get_backend_timeout(timeout)
        try:
            self._attempt("set_many", lambda: self._cache.set_many(safe_data, timeout), lost=list(safe_data))
        except CacheUnavailable:
            return list(data)
        return []

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        try:
            return self._attempt("add", lambda: self._cache.add(key, value, timeout))
        except CacheUnavailable:
            return False

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        try:
            return self._attempt("touch", lambda: self._cache.touch(key, timeout))
        except CacheUnavailable:
            return False

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        try:
            return self._attempt("delete", lambda: self._cache.delete(key), lost=[key])
        except CacheUnavailable:
            return False

    def delete_many(self, keys, version=None):
        if not keys:
            return
        safe_keys = [self.make_and_validate_key(key, version=version) for key in keys]
        try:
            self._attempt("delete_many", lambda: self._cache.delete_many(safe_keys), lost=safe_keys)
        except CacheUnavailable:
            pass

    def clear(self):
        try:
            return self._attempt("clear", self._cache.clear)
        except CacheUnavailable:
            with self._health.lock:
                self._health.lost_overflow = True
            return False

    # Counter operations: a failure is the caller's to handle.

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._attempt("incr", lambda: self._cache.incr(key, delta))
