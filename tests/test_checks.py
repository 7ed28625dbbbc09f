"""The account check registry (SPEC §3.3): every check fails when its condition holds, for each
action and association type it guards; passes when it does not; and stays silent for the
actions and types it does not guard. The expected guards are written out here from the SPEC's
table, not read from the registry, so a changed guard fails a test."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.checks import REGISTRY, Action, add_months, refusal, run_checks
from customers.models import Association, Customer
from partnercenter import factories as f

S, U, D, A = Action.SWITCH, Action.UNBIND, Action.DISSOCIATION, Action.APPROVAL
REF, RES = Association.Type.REFERRAL, Association.Type.RESELLER
BOTH = {REF, RES}
EVERY_REQUEST = {S: BOTH, U: BOTH, D: BOTH, A: BOTH}  # approval runs the dissociation's checks

EXPECTED_GUARDS = {
    "cooldown.partner_request": {S: BOTH, U: BOTH},
    "cooldown.after_dissociation": {S: BOTH, U: BOTH},
    "cooldown.customer_request": {D: BOTH, A: BOTH},
    "request.pending": EVERY_REQUEST,
    "reserved_instances": {S: BOTH, U: {RES}, D: {RES}, A: {RES}},
    "orders.awaiting_partner_payment": EVERY_REQUEST,
    "enterprise.master_with_unhosted_subs": EVERY_REQUEST,
    "enterprise.unhosted_sub": EVERY_REQUEST,
    "enterprise.hosted_sub": {S: BOTH, U: BOTH},
    "arrears": EVERY_REQUEST,
    "postpaid": {S: {REF}},
    "invoice_owed": {S: {REF}},
    "special_contract": {S: {RES}, U: {RES}, D: {RES}, A: {RES}},
    "customer.frozen": {S: {RES}, U: {RES}, D: {RES}, A: {RES}},
    "partner.frozen": {S: {RES}, U: {RES}, A: {RES}},
}


def _a_month_ago():
    return timezone.now() - timedelta(days=30)


def _master_with_unhosted_sub(association):
    customer = association.customer
    customer.enterprise_role = Customer.EnterpriseRole.MASTER
    customer.save()
    f.CustomerFactory(enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=customer, financially_hosted=False)


def _sub_account(hosted):
    def make(association):
        customer = association.customer
        customer.enterprise_role = Customer.EnterpriseRole.SUB
        customer.enterprise_master = f.CustomerFactory(enterprise_role=Customer.EnterpriseRole.MASTER)
        customer.financially_hosted = hosted
        customer.save()

    return make


def _customer_fact(**facts):
    def make(association):
        Customer.objects.filter(pk=association.customer_id).update(**facts)
        association.customer.refresh_from_db()

    return make


def _partner_frozen(association):
    association.partner.frozen = True
    association.partner.save()


MAKE_IT_FAIL = {
    "cooldown.partner_request": lambda a: f.AssociationRequestFactory(
        association=a, kind="switch", status="rejected", created_at=_a_month_ago()
    ),
    "cooldown.after_dissociation": lambda a: f.AssociationRequestFactory(
        association=a, kind="dissociation", status="rejected", created_at=_a_month_ago()
    ),
    "cooldown.customer_request": lambda a: f.AssociationRequestFactory(
        association=a, kind="dissociation", status="cancelled", created_at=_a_month_ago()
    ),
    "request.pending": lambda a: f.AssociationRequestFactory(association=a, kind="unbind"),
    "reserved_instances": lambda a: f.ReservedInstanceFactory(customer=a.customer),
    "orders.awaiting_partner_payment": _customer_fact(orders_awaiting_partner_payment=2),
    "enterprise.master_with_unhosted_subs": _master_with_unhosted_sub,
    "enterprise.unhosted_sub": _sub_account(hosted=False),
    "enterprise.hosted_sub": _sub_account(hosted=True),
    "arrears": _customer_fact(arrears=Decimal("12.50")),
    "postpaid": _customer_fact(postpaid=True),
    "invoice_owed": _customer_fact(invoice_owed=True),
    "special_contract": _customer_fact(special_contract=True),
    "customer.frozen": _customer_fact(frozen=True),
    "partner.frozen": _partner_frozen,
}

GUARDED = [
    (code, action, type_)
    for code, guards in EXPECTED_GUARDS.items()
    for action in Action.values
    for type_ in sorted(BOTH)
    if type_ in guards.get(action, set())
]
NOT_GUARDED = [
    (code, action, type_)
    for code, guards in EXPECTED_GUARDS.items()
    for action in Action.values
    for type_ in sorted(BOTH)
    if type_ not in guards.get(action, set())
]


@pytest.fixture
def make_association(partner):
    def make(type_):
        return f.AssociationFactory(partner=partner, customer=f.CustomerFactory(), type=type_)

    return make


def _result(association, action, code, **kwargs):
    return {r.code: r for r in run_checks(association=association, action=action, **kwargs)}.get(code)


def test_the_registry_holds_exactly_the_checks_of_the_spec():
    assert [c.code for c in REGISTRY] == list(EXPECTED_GUARDS)


@pytest.mark.parametrize(("code", "action", "type_"), GUARDED)
def test_a_check_fails_for_every_action_and_type_it_guards(make_association, code, action, type_):
    association = make_association(type_)
    MAKE_IT_FAIL[code](association)
    result = _result(association, action, code)
    assert result is not None and not result.passed
    assert result.message and result.advice


@pytest.mark.parametrize(("code", "action", "type_"), GUARDED)
def test_a_check_passes_when_its_condition_does_not_hold(make_association, code, action, type_):
    association = make_association(type_)
    result = _result(association, action, code)
    assert result is not None and result.passed


@pytest.mark.parametrize(("code", "action", "type_"), NOT_GUARDED)
def test_a_check_does_not_fire_for_what_it_does_not_guard(make_association, code, action, type_):
    association = make_association(type_)
    MAKE_IT_FAIL[code](association)
    assert _result(association, action, code) is None
    assert all(r.passed for r in run_checks(association=association, action=action) if r.code == code)


def test_every_check_is_listed_with_its_result_not_only_the_first_failure(make_association):
    association = make_association(RES)
    _customer_fact(arrears=Decimal("1.00"), frozen=True)(association)
    results = run_checks(association=association, action=S)
    assert [r.code for r in results if not r.passed] == ["arrears", "customer.frozen"]
    # every check guarding a reseller switch is listed, the passing ones too
    assert [r.code for r in results] == [code for code, guards in EXPECTED_GUARDS.items() if RES in guards.get(S, ())]
    error = refusal(results)
    assert [e.code for e in error.error_list] == ["arrears", "customer.frozen"]
    assert refusal([r for r in results if r.passed]) is None


def test_arrears_advice_names_who_must_act_by_association_type(make_association):
    referral, reseller = make_association(REF), make_association(RES)
    for association in (referral, reseller):
        _customer_fact(arrears=Decimal("5.00"))(association)
    assert "customer must top up" in _result(referral, U, "arrears").advice
    assert "partner must allocate funds" in _result(reseller, U, "arrears").advice


def test_a_frozen_distributor_freezes_its_resellers(db):
    distributor = f.DistributorFactory(frozen=True)
    reseller = f.ResellerFactory(distributor=distributor)
    association = f.AssociationFactory(partner=reseller, type=RES)
    assert not _result(association, U, "partner.frozen").passed


def test_an_expired_reserved_instance_does_not_count(make_association):
    association = make_association(REF)
    f.ReservedInstanceFactory(customer=association.customer, expires_at=timezone.now() - timedelta(minutes=1))
    assert _result(association, S, "reserved_instances").passed


def test_a_hosted_sub_account_of_a_master_does_not_block_the_master(make_association):
    association = make_association(REF)
    _customer_fact(enterprise_role=Customer.EnterpriseRole.MASTER)(association)
    f.CustomerFactory(
        enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=association.customer, financially_hosted=True
    )
    assert _result(association, U, "enterprise.master_with_unhosted_subs").passed


class TestCooldowns:
    def test_the_cooldown_names_the_date_the_action_becomes_possible(self, make_association):
        association = make_association(REF)
        submitted = timezone.now() - timedelta(days=10)
        f.AssociationRequestFactory(association=association, kind="unbind", status="rejected", created_at=submitted)
        result = _result(association, S, "cooldown.partner_request")
        assert not result.passed
        assert result.available_on == add_months(submitted, 3)
        assert result.available_on.strftime("%Y-%m-%d") in result.advice

    def test_the_action_is_possible_again_at_that_moment(self, make_association):
        association = make_association(REF)
        submitted = timezone.now() - timedelta(days=10)
        f.AssociationRequestFactory(association=association, kind="unbind", status="expired", created_at=submitted)
        until = add_months(submitted, 3)
        assert not _result(association, U, "cooldown.partner_request", now=until - timedelta(seconds=1)).passed
        assert _result(association, U, "cooldown.partner_request", now=until).passed

    def test_the_cooldown_length_is_a_setting(self, make_association, settings):
        settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "COOLDOWN_MONTHS": 1}
        association = make_association(REF)
        earlier = timezone.now() - timedelta(days=40)
        f.AssociationRequestFactory(association=association, kind="switch", status="cancelled", created_at=earlier)
        assert _result(association, U, "cooldown.partner_request").passed

    def test_another_partners_requests_do_not_count_against_this_partner(self, make_association, other_partner):
        association = make_association(REF)
        earlier = f.AssociationFactory(
            partner=other_partner, customer=association.customer, status="ended",
            ended_at=timezone.now() - timedelta(days=50), end_reason="unbind",
        )
        for kind in ("unbind", "dissociation"):
            f.AssociationRequestFactory(association=earlier, kind=kind, status="rejected", created_at=_a_month_ago())
        assert _result(association, S, "cooldown.partner_request").passed
        assert _result(association, S, "cooldown.after_dissociation").passed

    def test_a_customers_dissociation_from_any_partner_starts_its_own_cooldown(self, make_association, other_partner):
        association = make_association(REF)
        earlier = f.AssociationFactory(
            partner=other_partner, customer=association.customer, status="ended",
            ended_at=timezone.now() - timedelta(days=20), end_reason="dissociation",
        )
        f.AssociationRequestFactory(
            association=earlier, kind="dissociation", status="approved", created_at=_a_month_ago()
        )
        assert not _result(association, D, "cooldown.customer_request").passed

    def test_the_request_being_handled_does_not_count_against_itself(self, make_association):
        association = make_association(REF)
        handling = f.AssociationRequestFactory(association=association, kind="switch")
        for code in ("cooldown.partner_request", "request.pending"):
            assert not _result(association, S, code).passed
            assert _result(association, S, code, handling=handling).passed

    def test_a_customers_own_dissociation_does_not_block_its_approval(self, make_association):
        association = make_association(RES)
        handling = f.AssociationRequestFactory(association=association, kind="dissociation")
        assert all(r.passed for r in run_checks(association=association, action=A, handling=handling))


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 1, 31, 9, 30), 1, datetime(2026, 2, 28, 9, 30)),
        (datetime(2028, 1, 31, 9, 30), 1, datetime(2028, 2, 29, 9, 30)),
        (datetime(2026, 11, 30, 0, 0), 3, datetime(2027, 2, 28, 0, 0)),
        (datetime(2026, 5, 15, 23, 59), 3, datetime(2026, 8, 15, 23, 59)),
        (datetime(2026, 12, 1), 12, datetime(2027, 12, 1)),
        (datetime(2026, 3, 31), -1, datetime(2026, 2, 28)),
    ],
)
def test_add_months_counts_calendar_months_and_clamps_the_day(start, months, expected):
    aware = start.replace(tzinfo=UTC)
    assert add_months(aware, months) == expected.replace(tzinfo=UTC)
