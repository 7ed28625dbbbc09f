"""Every number read from the environment has a range, checked at start-up with a message
naming the variable (partnercenter/env.py)."""
import re
import runpy
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from partnercenter.env import env_amount, env_int

SETTINGS_FILE = settings.BASE_DIR / "partnercenter" / "settings.py"
SOURCE = SETTINGS_FILE.read_text()
NUMERIC = re.findall(r'env_(?:int|float|amount)\(\s*"([A-Z0-9_]+)"', SOURCE)

# Every branch of the settings reads its numbers: PostgreSQL, Redis, DEBUG off.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 60,
    "DATABASE_URL": "postgres://app@127.0.0.1:5432/partnercenter",
    "CACHE_URL": "redis://127.0.0.1:6379/0",
}


def _load(monkeypatch, **env):
    for name, value in {**PRODUCTION, **env}.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def _calls() -> list[str]:
    """The argument text of each ``env_int(…)``/``env_float(…)``/``env_amount(…)`` call."""
    calls = []
    for match in re.finditer(r"env_(?:int|float|amount)\(", SOURCE):
        depth, end = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(SOURCE[end], 0)
            end += 1
        calls.append(SOURCE[match.end(): end - 1])
    return calls


def test_every_numeric_variable_is_read_with_a_range():
    calls = _calls()
    assert len(calls) == len(NUMERIC) >= 25
    unbounded = [call for call in calls if "minimum=" not in call or "maximum=" not in call]
    assert not unbounded


def test_the_production_settings_load_with_the_defaults(monkeypatch):
    loaded = _load(monkeypatch)
    assert loaded["PARTNER_CENTER"]["PAGE_SIZE"] == 50
    assert loaded["EMAIL_TIMEOUT"] == 10
    assert loaded["CACHES"]["default"]["OPTIONS"]["socket_timeout"] == 0.5


@pytest.mark.parametrize("name", NUMERIC)
@pytest.mark.parametrize("value", ["-1", "99999999999999"])
def test_a_value_out_of_range_stops_the_start_naming_the_variable(monkeypatch, name, value):
    with pytest.raises(ImproperlyConfigured, match=rf"^{name} must be "):
        _load(monkeypatch, **{name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [("PC_PAGE_SIZE", "0"), ("PC_REQUEST_VALID_DAYS", "0"), ("EMAIL_TIMEOUT", "0"), ("PC_PAGE_SIZE", "ten"),
     ("PC_MAX_FUNDS_AMOUNT", "1e3"), ("PC_MAX_FUNDS_AMOUNT", "0.001"), ("PC_MAX_FUNDS_AMOUNT", "0")],
)
def test_zero_words_and_odd_amounts_are_refused_too(monkeypatch, name, value):
    with pytest.raises(ImproperlyConfigured, match=rf"^{name} must be "):
        _load(monkeypatch, **{name: value})


def test_the_range_is_in_the_message(monkeypatch):
    monkeypatch.setenv("PC_PAGE_SIZE", "5000")
    with pytest.raises(ImproperlyConfigured, match=r"PC_PAGE_SIZE must be between 1 and 1000, not '5000'"):
        env_int("PC_PAGE_SIZE", 50, minimum=1, maximum=1000)


def test_a_plain_amount_in_range_is_kept_as_written(monkeypatch):
    monkeypatch.setenv("PC_MAX_FUNDS_AMOUNT", "2500.50")
    assert env_amount("PC_MAX_FUNDS_AMOUNT", "1", minimum=Decimal("0.01"), maximum=Decimal("10000")) == "2500.50"


@pytest.mark.parametrize("name", ["GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_KEEPALIVE", "GUNICORN_TIMEOUT"])
def test_the_serving_settings_have_ranges_too(monkeypatch, name):
    monkeypatch.setenv(name, "-1")
    with pytest.raises(ImproperlyConfigured, match=rf"^{name} must be "):
        runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
