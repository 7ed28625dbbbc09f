"""The example integration of the README (examples/api_integration.py) run as a partner would
run it: a separate process talking HTTP to a live server, signing in with a member's password,
and each of its steps checked from its output and in the database."""
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from audit.models import OperationRecord
from customers.models import Association, Invitation, LedgerEntry
from partnercenter import factories as f

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "api_integration.py"


def _lines(output: str) -> dict[str, dict[str, str]]:
    steps = {}
    for line in output.splitlines():
        step, _, rest = line.partition(": ")
        steps[step.strip()] = dict(pair.split("=", 1) for pair in rest.split())
    return steps


@pytest.fixture
def acme(transactional_db):
    partner = f.PartnerFactory(account_name="acme", balance=Decimal("500.00"))
    f.MemberFactory(partner=partner, member_name="admin", roles=["system_admin"])
    customer = f.CustomerWithUserFactory(account_name="cust-one", name="Customer One")
    f.AssociationFactory(partner=partner, customer=customer, type=Association.Type.RESELLER)
    customer.arrears = Decimal("4.00")
    customer.save(update_fields=["arrears"])
    return partner


def test_the_example_integration_runs_against_a_live_server(live_server, acme):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", live_server.url, "--partner", "acme", "--member", "admin",
         "--password", f.DEFAULT_PASSWORD, "--invite", "new-customer@example.com", "--amount", "12.50"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    steps = _lines(result.stdout)
    assert steps["invitation"]["status"] == "sent"
    assert Invitation.objects.get(pk=steps["invitation"]["id"]).email == "new-customer@example.com"
    assert steps["customers"]["listed"] == "1"
    check = steps["check"]
    assert check["customer"] == "cust-one" and check["passed"] == "False" and "arrears" in check["failed"].split(",")
    assert steps["failed"]["who_acts"] in ("partner", "customer,partner")
    assert steps["allocate"]["status"] == "201" and steps["allocate"]["partner_balance_after"] == "487.50"
    retry = steps["retry"]
    assert retry == {"status": "201", "entry": steps["allocate"]["entry"], "replayed": "true", "same": "True"}
    # The retry moved no money: one ledger row, the partner's balance down by one allocation.
    assert LedgerEntry.objects.filter(partner=acme).count() == 1
    acme.refresh_from_db()
    assert acme.balance == Decimal("487.50")
    assert "funds.allocated" in steps["records"]["events"].split(",")
    assert int(steps["records"]["listed"]) == OperationRecord.objects.filter(
        partner=acme, customer__account_name="cust-one").count()
    assert steps["done"] == {"ok": "True"}


def test_the_example_stops_with_the_problem_of_an_unexpected_answer(live_server, acme):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", live_server.url, "--partner", "acme", "--member", "admin",
         "--password", "not the password"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1 and "invalid_credentials" in result.stderr
