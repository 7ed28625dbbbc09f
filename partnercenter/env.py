"""Typed readers for environment variables that fail loudly on bad values.

A number read with ``minimum``/``maximum`` outside that range stops the process at start-up
with ``ImproperlyConfigured`` naming the variable and the range, so a typo (``PC_PAGE_SIZE=0``,
``EMAIL_TIMEOUT=-1``) is found when the portal starts, not when a page divides by it."""
import os
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false, 1/0), not {raw!r}.")


def _in_range(name: str, value, raw: str, minimum, maximum):
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        if maximum is None:
            bounds = f"at least {minimum}"
        elif minimum is None:
            bounds = f"at most {maximum}"
        else:
            bounds = f"between {minimum} and {maximum}"
        raise ImproperlyConfigured(f"{name} must be {bounds}, not {raw!r}.")
    return value


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    return _in_range(name, value, raw, minimum, maximum)


def env_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name} must be a finite number, not {raw!r}.")
    return _in_range(name, value, raw, minimum, maximum)


def env_amount(name: str, default: str, *, minimum: Decimal, maximum: Decimal) -> str:
    """A money amount in plain decimal (digits, at most two places), kept as its text."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value.as_tuple().exponent < -2 or "e" in raw.lower():
        raise ImproperlyConfigured(f"{name} must be an amount with at most two decimal places, not {raw!r}.")
    _in_range(name, value, raw, minimum, maximum)
    return raw.strip()


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
