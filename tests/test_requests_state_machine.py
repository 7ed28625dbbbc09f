"""Random sequences of request actions and clock jumps (hypothesis RuleBasedStateMachine).

After every step: at most one active association per customer and one pending request per
association; no cooldown broken; every state change has exactly its operation records (and a
refused action has none, and changes nothing); money and voucher quota conserved."""
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from unittest import mock

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from audit.events import Event
from audit.models import OperationRecord
from customers.checks import add_months
from customers.funds import services as funds
from customers.models import Association, AssociationRequest, Customer, Voucher
from customers.requests import services as services
from customers.services import association_create
from organization.models import Partner
from partnercenter import factories as f

Kind = AssociationRequest.Kind
Status = AssociationRequest.Status
CUSTOMERS = 2

STATUS_EVENT = {
    Status.CONFIRMED: Event.REQUEST_CONFIRMED,
    Status.APPROVED: Event.REQUEST_APPROVED,
    Status.AUTO_APPROVED: Event.REQUEST_AUTO_APPROVED,
    Status.REJECTED: Event.REQUEST_REJECTED,
    Status.CANCELLED: Event.REQUEST_CANCELLED,
    Status.EXPIRED: Event.REQUEST_EXPIRED,
    Status.FAILED: Event.REQUEST_FAILED,
}


class RequestMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.clock = timezone.now()
        self.clock_patch = mock.patch.object(timezone, "now", lambda: self.clock)
        self.clock_patch.start()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        operator = f.OperatorFactory()
        self.partners = [f.PartnerFactory(), f.PartnerFactory()]
        self.members = {p.pk: f.MemberFactory(partner=p) for p in self.partners}
        self.customers = [f.CustomerWithUserFactory() for _ in range(CUSTOMERS)]
        for partner in self.partners:
            funds.partner_top_up(actor=operator, partner=partner, amount=Decimal("1000.00"))
            funds.voucher_quota_top_up(actor=operator, partner=partner, amount=Decimal("100.00"))
        for i, customer in enumerate(self.customers):
            association = f.AssociationFactory(
                partner=self.partners[0], customer=customer, type=["reseller", "referral"][i % 2]
            )
            if association.type == Association.Type.RESELLER:
                funds.funds_allocate(actor=None, association=association, amount=Decimal("30.00"))
            funds.voucher_issue(
                actor=None, association=association, amount=Decimal("5.00"), expires_at=self.clock + timedelta(days=900)
            )
        self.money, self.quota = self.totals()

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
        self.clock_patch.stop()

    # helpers ---------------------------------------------------------------------------------

    def totals(self):
        money = sum(Partner.objects.values_list("balance", flat=True)) + (
            Customer.objects.aggregate(s=Sum("allocated_balance"))["s"] or 0
        )
        unused = Voucher.objects.filter(status=Voucher.Status.UNUSED).aggregate(s=Sum("amount"))["s"] or 0
        return money, sum(Partner.objects.values_list("voucher_quota", flat=True)) + unused

    def active(self, c):
        return (
            Association.objects.select_related("partner", "customer")
            .filter(customer=self.customers[c], status="active")
            .first()
        )

    def latest_request(self, c):
        return (
            AssociationRequest.objects.select_related("association")
            .filter(association__customer=self.customers[c])
            .order_by("-pk")
            .first()
        )

    def member_for(self, association):
        return self.members[association.partner_id]

    def snapshot(self):
        return {
            "requests": dict(AssociationRequest.objects.values_list("pk", "status")),
            "associations": {pk: (s, t) for pk, s, t in Association.objects.values_list("pk", "status", "type")},
            "allocated": dict(Customer.objects.values_list("pk", "allocated_balance")),
            "recovered": dict(
                Voucher.objects.filter(status=Voucher.Status.RECOVERED)
                .values("customer").annotate(n=Count("pk")).values_list("customer", "n")
            ),
            "last_record": OperationRecord.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        }

    def step(self, action):
        """Run ``action``; a refusal must change nothing, and whatever changed must have
        exactly its operation records."""
        before = self.snapshot()
        try:
            action()
        except ValidationError:
            refused = True
        else:
            refused = False
        after = self.snapshot()
        actual = Counter(
            OperationRecord.objects.filter(pk__gt=before["last_record"]).values_list("event", flat=True)
        )
        expected = Counter()
        for pk, status in after["requests"].items():
            if pk not in before["requests"]:
                expected[Event.REQUEST_SUBMITTED] += 1
                assert status == Status.PENDING
            elif status != before["requests"][pk]:
                assert before["requests"][pk] == Status.PENDING
                expected[STATUS_EVENT[status]] += 1
        for pk, (status, type_) in after["associations"].items():
            if pk not in before["associations"]:
                expected[Event.ASSOCIATION_CREATED] += 1
                continue
            old_status, old_type = before["associations"][pk]
            if status != old_status:
                assert (old_status, status) == ("active", "ended")
                expected[Event.ASSOCIATION_ENDED] += 1
            if type_ != old_type:
                expected[Event.ASSOCIATION_SWITCHED] += 1
        for pk, amount in after["allocated"].items():
            if amount < before["allocated"][pk]:
                assert amount == 0
                expected[Event.FUNDS_RETURNED] += 1
        for pk, n in after["recovered"].items():
            if n > before["recovered"].get(pk, 0):
                expected[Event.VOUCHERS_RECOVERED] += 1
        assert actual == expected, (actual, expected)
        if refused:
            # Nothing changes but the settling of overdue requests, which every action does first.
            assert set(after["requests"]) == set(before["requests"])
            assert all(
                status in (Status.EXPIRED, Status.AUTO_APPROVED, Status.FAILED)
                for pk, status in after["requests"].items()
                if status != before["requests"][pk]
            )
        return refused

    # rules -----------------------------------------------------------------------------------

    @rule(c=st.integers(0, CUSTOMERS - 1), kind=st.sampled_from([Kind.SWITCH, Kind.UNBIND]))
    def partner_submits(self, c, kind):
        association = self.active(c)
        if association is not None:
            self.step(lambda: services.request_submit(
                actor=self.member_for(association), association=association, kind=kind, reason="r"
            ))

    @rule(c=st.integers(0, CUSTOMERS - 1))
    def customer_dissociates(self, c):
        association = self.active(c)
        if association is not None:
            self.step(lambda: services.request_submit_dissociation(
                actor=self.customers[c].user, association=association, reason="r"
            ))

    @rule(c=st.integers(0, CUSTOMERS - 1))
    def the_customer_agrees(self, c):
        self.answer(c, lambda r: services.request_confirm(actor=self.customers[c].user, association_request=r))

    @rule(c=st.integers(0, CUSTOMERS - 1))
    def the_asked_side_rejects(self, c):
        self.answer(c, lambda r: services.request_reject(actor=self.asked(r), association_request=r, reason="no"))

    @rule(c=st.integers(0, CUSTOMERS - 1))
    def the_initiator_cancels(self, c):
        self.answer(c, lambda r: services.request_cancel(actor=self.initiator(r), association_request=r))

    @rule(c=st.integers(0, CUSTOMERS - 1))
    def the_partner_approves(self, c):
        self.answer(c, lambda r: services.request_approve(actor=self.member_for(r.association), association_request=r))

    @rule(c=st.integers(0, CUSTOMERS - 1), action=st.sampled_from(["confirm", "reject", "cancel", "approve"]))
    def the_wrong_side_answers(self, c, action):
        wrong = {
            "confirm": lambda r: services.request_confirm(actor=self.asked(r, wrong=True), association_request=r),
            "approve": lambda r: services.request_approve(actor=self.asked(r, wrong=True), association_request=r),
            "reject": lambda r: services.request_reject(actor=self.initiator(r), association_request=r, reason="x"),
            "cancel": lambda r: services.request_cancel(actor=self.asked(r), association_request=r),
        }[action]
        request = self.open_or_latest(c)
        if request is not None:
            assert self.step(lambda: wrong(request))

    def answer(self, c, call):
        """Act on the customer's pending request, or on its latest one when none is pending
        (a stale answer, which must be refused)."""
        request = self.open_or_latest(c)
        if request is not None:
            self.step(lambda: call(request))

    def open_or_latest(self, c):
        requests = AssociationRequest.objects.select_related("association").filter(
            association__customer=self.customers[c]
        )
        return requests.filter(status=Status.PENDING).first() or requests.order_by("-pk").first()

    def initiator(self, request):
        if request.kind == Kind.DISSOCIATION:
            return request.association.customer.user
        return self.member_for(request.association)

    def asked(self, request, wrong=False):
        """The side a request asks (the customer for a switch or unbind, the partner for a
        dissociation), or the other side."""
        asks_customer = (request.kind != Kind.DISSOCIATION) != wrong
        return request.association.customer.user if asks_customer else self.member_for(request.association)

    @rule()
    def expiry_job_runs(self):
        self.step(services.request_expire_due)

    # Steps around the deadline (7 days) and the cooldown (3 calendar months).
    @rule(by=st.sampled_from([timedelta(hours=1), timedelta(days=1), timedelta(days=8), timedelta(days=32),
                              timedelta(days=65)]))
    def time_passes(self, by):
        self.clock += by

    @rule(c=st.integers(0, CUSTOMERS - 1), arrears=st.booleans())
    def the_customer_falls_into_or_clears_arrears(self, c, arrears):
        Customer.objects.filter(pk=self.customers[c].pk).update(arrears=Decimal("7.00") if arrears else 0)

    @rule(p=st.integers(0, 1), frozen=st.booleans())
    def an_operator_freezes_or_unfreezes_a_partner(self, p, frozen):
        Partner.objects.filter(pk=self.partners[p].pk).update(frozen=frozen)

    @rule(c=st.integers(0, CUSTOMERS - 1), p=st.integers(0, 1), type_=st.sampled_from(["referral", "reseller"]))
    def an_unassociated_customer_joins_a_partner(self, c, p, type_):
        if self.active(c) is None:
            def join():
                with transaction.atomic():
                    customer = Customer.objects.select_for_update().get(pk=self.customers[c].pk)
                    association_create(actor=None, partner=self.partners[p], customer=customer, type=type_,
                                       origin=Association.Origin.OPERATOR)
            self.step(join)

    # invariants ------------------------------------------------------------------------------

    @invariant()
    def one_active_association_per_customer(self):
        assert not Association.objects.filter(status="active").values("customer").annotate(
            n=Count("pk")).filter(n__gt=1).exists()

    @invariant()
    def one_pending_request_per_association(self):
        assert not AssociationRequest.objects.filter(status=Status.PENDING).values("association").annotate(
            n=Count("pk")).filter(n__gt=1).exists()

    @invariant()
    def no_cooldown_is_broken(self):
        requests = list(AssociationRequest.objects.select_related("association").order_by("created_at", "pk"))
        for later in requests:
            partner, customer = later.association.partner_id, later.association.customer_id
            earlier = [r for r in requests if r.created_at < later.created_at or
                       (r.created_at == later.created_at and r.pk < later.pk)]
            if later.kind == Kind.DISSOCIATION:
                blocking = [r for r in earlier if r.kind == Kind.DISSOCIATION
                            and r.association.customer_id == customer]
            else:
                blocking = [r for r in earlier if r.association.customer_id == customer
                            and r.association.partner_id == partner]
            for r in blocking:
                assert later.created_at >= add_months(r.created_at, 3), (r, later)

    @invariant()
    def money_and_voucher_quota_are_conserved(self):
        assert self.totals() == (self.money, self.quota)
        assert not Customer.objects.filter(allocated_balance__lt=0).exists()

    @invariant()
    def the_effects_of_ending_and_switching_were_applied(self):
        reseller_customers = Association.objects.filter(status="active", type="reseller").values("customer")
        assert not Customer.objects.exclude(pk__in=reseller_customers).filter(allocated_balance__gt=0).exists()
        for voucher in Voucher.objects.filter(status=Voucher.Status.UNUSED):
            assert Association.objects.filter(
                partner=voucher.partner_id, customer=voucher.customer_id, status="active"
            ).exists()

    @invariant()
    def handled_requests_and_ended_associations_are_complete(self):
        assert not AssociationRequest.objects.exclude(status=Status.PENDING).filter(handled_at__isnull=True).exists()
        assert not Association.objects.filter(status="ended", end_reason="").exists()


def test_random_request_sequences_keep_every_rule(db):
    run_state_machine_as_test(
        RequestMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
