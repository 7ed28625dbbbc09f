"""Demo data for trying the portal: ``python manage.py seed_demo`` (idempotent).

A solution provider, a distributor with two resellers (one frozen), about 200 customers of
both types covering every account-check situation, members holding each built-in role,
and a customer sign-in. Built from the same factories as the tests."""
import random
from datetime import timedelta
from decimal import Decimal

import factory.random
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from customers.controls import services as controls
from customers.funds import services as funds
from customers.models import Association, Customer
from customers.requests import services as association_requests
from organization.models import Partner
from partnercenter import factories as f

PASSWORD = f.DEFAULT_PASSWORD
SP, DIST, RES_A, RES_B = "demo-sp", "demo-dist", "demo-res-a", "demo-res-b"
MEMBERS = [
    # (member name, display name, roles)
    ("admin", "Alice Admin", ["system_admin"]),
    ("manager1", "Mark Manager", ["customer_manager"]),
    ("manager2", "Mia Manager", ["customer_manager"]),
    ("supervisor", "Sam Supervisor", ["customer_manager_supervisor"]),
    ("finance", "Fay Finance", ["finance"]),
    ("viewer", "Vic Viewer", ["read_only"]),
]
DEMO_CUSTOMER = "democustomer"


def sign_ins() -> list[str]:
    """What ``make run`` prints."""
    return [
        f"Partner administrator (member login at /accounts/login/): partner account {SP}, "
        f"user name admin, password {PASSWORD}",
        f"Other members of {SP}: " + ", ".join(m for m, _n, _r in MEMBERS[1:]) + " (same password)",
        f"Distributor: partner account {DIST}, user name admin; resellers {RES_A} and {RES_B} (frozen), "
        "user name admin",
        f"Customer (Account Center at /accounts/customer-login/): account name {DEMO_CUSTOMER}, "
        f"password {PASSWORD}",
        f"Operator (Django admin at /admin/): user name operator, password {PASSWORD}",
    ]


class Command(BaseCommand):
    help = "Load demo partners, members and customers (safe to run again)."

    def handle(self, *args, **options):
        with transaction.atomic():
            created = self.seed()
        self.stdout.write(self.style.SUCCESS("Demo data loaded." if created else "Demo data already present."))
        for line in sign_ins():
            self.stdout.write(f"  {line}")

    def seed(self) -> bool:
        if Partner.objects.filter(account_name=SP).exists():
            return False
        rng = random.Random(20261123)
        factory.random.reseed_random(20261123)
        operator = f.OperatorFactory(username="operator", email="operator@vendor.example.com")
        sp = f.PartnerFactory(account_name=SP, name="Acme Cloud Solutions", in_migration_programme=True)
        dist = f.DistributorFactory(account_name=DIST, name="Great Wall Distribution")
        res_a = f.ResellerFactory(account_name=RES_A, name="Blue River Reseller", distributor=dist)
        # Money comes in through the vendor's top-ups, so the ledger explains every balance.
        for partner, balance, quota in ((sp, "500000.00", "20000.00"), (dist, "300000.00", "10000.00"),
                                        (res_a, "50000.00", "0")):
            funds.partner_top_up(actor=operator, partner=partner, amount=Decimal(balance), reason="Demo opening")
            if Decimal(quota):
                funds.voucher_quota_top_up(actor=operator, partner=partner, amount=Decimal(quota),
                                           reason="Demo opening")
        res_b = f.ResellerFactory(account_name=RES_B, name="Frozen Peak Reseller", distributor=dist, frozen=True)
        members = {}
        for partner in (sp, dist, res_a, res_b):
            for member_name, display, roles in MEMBERS if partner is sp else MEMBERS[:1]:
                members[(partner.account_name, member_name)] = f.MemberFactory(
                    partner=partner, member_name=member_name, display_name=display, roles=roles,
                    is_partner_admin=member_name == "admin",
                )
        supervisor = members[(SP, "supervisor")]
        for name in ("manager1", "manager2"):
            members[(SP, name)].supervisor = supervisor
            members[(SP, name)].save(update_fields=["supervisor"])
        managers = [members[(SP, "manager1")], members[(SP, "manager2")]]

        now = timezone.now()
        # The demo customer who signs in to the Account Center: a reseller customer of SP.
        demo = f.CustomerWithUserFactory(account_name=DEMO_CUSTOMER, name="Demo Customer Ltd",
                                         email="democustomer@customer.example.com", manager=managers[0])
        f.AssociationFactory(partner=sp, customer=demo, type=Association.Type.RESELLER)

        # One customer per account-check situation, for each partner that acts on its own.
        situations = [
            ("ri", {"_ri": True}),
            ("orders", {"orders_awaiting_partner_payment": 2}),
            ("arrears", {"arrears": Decimal("123.45")}),
            ("postpaid", {"postpaid": True}),
            ("invoice", {"invoice_owed": True}),
            ("contract", {"special_contract": True}),
            ("frozen", {"frozen": True}),
        ]
        n = 0
        for partner, count in ((sp, 80), (dist, 40), (res_a, 30), (res_b, 30)):
            for i in range(count):
                n += 1
                kind = situations[i][0] if i < len(situations) else "plain"
                facts = dict(situations[i][1]) if i < len(situations) else {}
                has_ri = facts.pop("_ri", False)
                customer = f.CustomerWithUserFactory(
                    account_name=f"{partner.account_name}-{kind}-{n:03d}",
                    manager=rng.choice(managers) if partner is sp and rng.random() < 0.6 else None,
                    registered_at=now - timedelta(days=rng.randint(30, 1500)),
                    **facts,
                )
                if has_ri:
                    f.ReservedInstanceFactory(customer=customer)
                type_ = Association.Type.RESELLER if kind in ("contract", "frozen") or rng.random() < 0.5 \
                    else Association.Type.REFERRAL
                if kind in ("postpaid", "invoice"):
                    type_ = Association.Type.REFERRAL
                f.AssociationFactory(partner=partner, customer=customer, type=type_,
                                     started_at=now - timedelta(days=rng.randint(1, 900)))
            # Enterprise structure: a master with one hosted and one unhosted sub-account.
            master = f.CustomerWithUserFactory(account_name=f"{partner.account_name}-ent-master",
                                               enterprise_role=Customer.EnterpriseRole.MASTER)
            hosted = f.CustomerWithUserFactory(account_name=f"{partner.account_name}-ent-hosted",
                                               enterprise_role=Customer.EnterpriseRole.SUB,
                                               enterprise_master=master, financially_hosted=True)
            unhosted = f.CustomerWithUserFactory(account_name=f"{partner.account_name}-ent-unhosted",
                                                 enterprise_role=Customer.EnterpriseRole.SUB,
                                                 enterprise_master=master, financially_hosted=False)
            for c in (master, hosted, unhosted):
                f.AssociationFactory(partner=partner, customer=c, type=Association.Type.RESELLER)
        # Customers not yet associated (for invitations), two of them brand new accounts.
        for i in range(10):
            f.CustomerWithUserFactory(
                account_name=f"free-{i:03d}",
                registered_at=now - (timedelta(days=2) if i < 2 else timedelta(days=300)),
                has_consumption=i >= 2,
            )
        # Leads: an open invitation free-000 can accept (its Account Center lists it), an
        # expired one, and a project registration awaiting the operators' review.
        admin = members[(SP, "admin")]
        f.InvitationFactory(partner=sp, email="free-000@customer.example.com", type=Association.Type.RESELLER,
                            created_by=admin)
        f.InvitationFactory(partner=sp, email="free-005@customer.example.com", created_by=admin,
                            sent_at=now - timedelta(days=10))
        f.ProjectRegistrationFactory(partner=sp, customer=demo, name="ERP migration", submitted_by=admin)
        # Reseller customers with allocated balances and vouchers (one recovered), through the
        # funds services; the demo customer among them.
        demo_funded = Association.objects.select_related("partner", "customer").get(customer=demo, status="active")
        for partner in (sp, dist, res_a):
            admin_of = members[(partner.account_name, "admin")]
            funded = Association.objects.filter(
                partner=partner, type=Association.Type.RESELLER, customer__account_name__contains="-plain-"
            ).select_related("partner", "customer").order_by("pk")[:4]
            for i, association in enumerate([*funded, *([demo_funded] if partner is sp else [])]):
                funds.funds_allocate(actor=admin_of, association=association,
                                     amount=Decimal(rng.randint(5, 80) * 100))
                if partner.voucher_quota:
                    voucher = funds.voucher_issue(actor=admin_of, association=association, amount=Decimal("200.00"),
                                                  expires_at=now + timedelta(days=30 + 30 * i))
                    if i == 1:
                        funds.voucher_recover(actor=admin_of, voucher=voucher, reason="Issued by mistake")
        # Requests, through the request services: a switch waiting for the demo customer (Handle
        # now), a dissociation waiting in the requests inbox, and two cooldowns running (an
        # unbind the customer rejected, a dissociation the partner rejected).
        by_account = {
            a.customer.account_name: a
            for a in Association.objects.filter(partner=sp).select_related("partner", "customer__user")
        }
        demo_association, waiting, unbound, stayed = (
            by_account[name] for name in (DEMO_CUSTOMER, "demo-sp-plain-008", "demo-sp-plain-009", "demo-sp-plain-010")
        )
        association_requests.request_submit(actor=admin, association=demo_association, kind="switch",
                                            reason="From next month you pay the vendor directly.")
        association_requests.request_submit_dissociation(actor=waiting.customer.user, association=waiting,
                                                         reason="We will manage our cloud account ourselves.")
        rejected = association_requests.request_submit(actor=admin, association=unbound, kind="unbind",
                                                       reason="We no longer serve this region.")
        association_requests.request_reject(actor=unbound.customer.user, association_request=rejected,
                                            reason="We want to stay with Acme.")
        rejected = association_requests.request_submit_dissociation(actor=stayed.customer.user, association=stayed,
                                                                    reason="Moving to another partner.")
        association_requests.request_reject(actor=admin, association_request=rejected,
                                            reason="Your contract runs until the end of the year.")
        self.seed_controls(operator=operator, admin=admin, dist_admin=members[(DIST, "admin")], res_a=res_a, sp=sp,
                           demo=demo)
        return True

    def seed_controls(self, *, operator, admin, dist_admin, res_a, sp, demo) -> None:
        """Reseller controls (issue 20): vendor-frozen and partner-frozen customers, budgets
        below, near and over their limit (the one over frozen by the system, as the partner
        chose), and one reseller with its distributor's grant to freeze (Frozen Peak has none)."""
        Customer.objects.filter(frozen=True, frozen_source="").update(
            frozen_source="vendor", frozen_reason="Compliance review by the vendor", frozen_by_name=str(operator),
            frozen_at=timezone.now(),
        )
        controls.controls_settings_update(actor=dist_admin, start_frozen_until_budget=False,
                                          freeze_on_exhaustion=False, granted_resellers=[res_a])
        controls.controls_settings_update(actor=admin, start_frozen_until_budget=False, freeze_on_exhaustion=True)
        plain = list(
            Association.objects.filter(partner=sp, type=Association.Type.RESELLER, customer__frozen=False,
                                       customer__account_name__contains="-plain-")
            .select_related("partner", "customer__user").order_by("-pk")[:4]
        )
        demo_association = Association.objects.select_related("partner", "customer__user").get(
            customer=demo, status="active")
        for association, budget, spent in (
            (demo_association, "2000.00", "1700.00"),  # near: 85 %
            (plain[0], "1000.00", "250.00"),  # below
            (plain[1], "500.00", "520.00"),  # over: frozen by the system
        ):
            controls.customer_budget_set(actor=admin, association=association, amount=Decimal(budget),
                                         reason="Demo budget")
            controls.customer_usage_post(actor=operator, customer=association.customer, amount=Decimal(spent))
        controls.customer_freeze(actor=admin, association=plain[2], reason="Awaiting the signed contract renewal.")
