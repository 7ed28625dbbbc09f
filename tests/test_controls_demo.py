"""The demo data shows every state of the reseller controls (issue 20, Build 4)."""
from django.core.management import call_command

from customers.controls.services import freeze_granted, used_percent
from customers.models import Customer
from organization.models import Partner


def test_the_demo_shows_each_freeze_and_budget_state(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert Customer.objects.filter(frozen=True, frozen_source="vendor").exclude(frozen_reason="").exists()
    partner_frozen = Customer.objects.filter(frozen=True, frozen_source="partner")
    assert partner_frozen.filter(frozen_by__isnull=False).exists()  # by a member
    assert partner_frozen.filter(frozen_by__isnull=True).exists()  # by the system, budget used up
    used = sorted(used_percent(c) for c in Customer.objects.filter(monthly_budget__isnull=False))
    assert any(p < 80 for p in used) and any(80 <= p < 100 for p in used) and any(p >= 100 for p in used)
    granted, refused = (Partner.objects.get(kind="reseller", name=n) for n in ("Blue River Reseller",
                                                                              "Frozen Peak Reseller"))
    assert freeze_granted(granted) and not freeze_granted(refused)
