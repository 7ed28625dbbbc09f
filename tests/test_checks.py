"""The account check registry (SPEC §3.3 and R3): every check fails when its condition holds, for
each action and association type it guards; passes when it does not; and stays silent for the
actions and types it does not guard. The expected guards are written out here from the SPEC's
table and R3, not read from the registry, so a changed guard fails a test. Acceptance of an
invitation or a public link (the accept action) is tested at the end, through its page too."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import OperationRecord
from customers.checks import REGISTRY, Action, accept_checks, add_months, refusal, run_checks
from customers.invitations import services as services
from customers.models import Association, Customer, Invitation
from partnercenter import factories as f

S, U, D, A, ACCEPT = Action.SWITCH, Action.UNBIND, Action.DISSOCIATION, Action.APPROVAL, Action.ACCEPT
REQUEST_ACTIONS = [S, U, D, A]
REF, RES = Association.Type.REFERRAL, Association.Type.RESELLER
BOTH = {REF, RES}
EVERY_REQUEST = {S: BOTH, U: BOTH, D: BOTH, A: BOTH}  # approval runs the dissociation's checks

EXPECTED_GUARDS = {
    "associated": {ACCEPT: BOTH},
    "public_link.new_account": {ACCEPT: BOTH},  # public link only
    "cooldown.partner_request": {S: BOTH, U: BOTH},
    "cooldown.after_dissociation": {S: BOTH, U: BOTH},
    "cooldown.customer_request": {D: BOTH, A: BOTH},
    "request.pending": EVERY_REQUEST,
    "reserved_instances": {S: BOTH, U: {RES}, D: {RES}, A: {RES}, ACCEPT: {RES}},
    "orders.awaiting_partner_payment": EVERY_REQUEST,
    "enterprise.master_with_unhosted_subs": {**EVERY_REQUEST, ACCEPT: {RES}},
    "enterprise.unhosted_sub": {**EVERY_REQUEST, ACCEPT: {RES}},
    "enterprise.hosted_sub": {S: BOTH, U: BOTH, ACCEPT: BOTH},
    "arrears": {**EVERY_REQUEST, ACCEPT: BOTH},
    "postpaid": {S: {REF}},
    "invoice_owed": {S: {REF}, ACCEPT: {RES}},
    "special_contract": {S: {RES}, U: {RES}, D: {RES}, A: {RES}, ACCEPT: BOTH},
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

# The request actions run on an association; acceptance has its own tests below.
GUARDED = [
    (code, action, type_)
    for code, guards in EXPECTED_GUARDS.items()
    for action in REQUEST_ACTIONS
    for type_ in sorted(BOTH)
    if type_ in guards.get(action, set())
]
NOT_GUARDED = [
    (code, action, type_)
    for code, guards in EXPECTED_GUARDS.items()
    for action in REQUEST_ACTIONS
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
    if code in MAKE_IT_FAIL:
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


# Acceptance (SPEC R3) ---------------------------------------------------------------------------

BOTH_TYPES = ("referral", "reseller")
RESELLER_ONLY = ("reseller",)


def fresh_customer(**facts):
    return f.CustomerWithUserFactory(registered_at=timezone.now() - timedelta(days=1), has_consumption=False, **facts)


def special_contract():
    return fresh_customer(special_contract=True)


def arrears():
    return fresh_customer(arrears=Decimal("12.50"))


def hosted_sub():
    master = f.CustomerFactory(enterprise_role=Customer.EnterpriseRole.MASTER)
    return fresh_customer(
        enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=master, financially_hosted=True
    )


def unhosted_sub():
    master = f.CustomerFactory(enterprise_role=Customer.EnterpriseRole.MASTER)
    return fresh_customer(enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=master)


def reserved_instances():
    c = fresh_customer()
    f.ReservedInstanceFactory(customer=c)
    return c


def invoice_owed():
    return fresh_customer(invoice_owed=True)


def master_with_unhosted_subs():
    master = fresh_customer(enterprise_role=Customer.EnterpriseRole.MASTER)
    f.CustomerFactory(enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=master, financially_hosted=True)
    f.CustomerFactory(enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=master)
    return master


def associated_elsewhere():
    c = fresh_customer()
    f.AssociationFactory(customer=c, partner=f.PartnerFactory(name="Initech"))
    return c


# code, how to make a customer fail it, the types it guards, its message, its advice
CASES = [
    ("associated", associated_elsewhere, BOTH_TYPES, "already associated with Initech", "Dissociate from Initech"),
    ("special_contract", special_contract, BOTH_TYPES, "effective special contract", "ecosystem manager"),
    ("arrears", arrears, BOTH_TYPES, "in arrears (12.50)", "Top up your account"),
    ("enterprise.hosted_sub", hosted_sub, BOTH_TYPES, "financially hosted sub-account", "accepted by the master"),
    ("reserved_instances", reserved_instances, RESELLER_ONLY, "unexpired reserved instances", "Unsubscribe"),
    ("invoice_owed", invoice_owed, RESELLER_ONLY, "invoice is owed", "Settle the owed invoice"),
    (
        "enterprise.master_with_unhosted_subs", master_with_unhosted_subs, RESELLER_ONLY,
        "sub-accounts that are not financially hosted", "Remove those sub-accounts",
    ),
    ("enterprise.unhosted_sub", unhosted_sub, RESELLER_ONLY, "sub-account that is not financially hosted", "Leave the"),
]
IDS = [case[0] for case in CASES]


def accept_failures(customer, type, origin="invitation"):
    results = accept_checks(customer, partner=f.PartnerFactory(), type=type, origin=origin)
    return [result for result in results if not result.passed]


def accept_codes(customer, type, origin="invitation"):
    return [result.code for result in accept_failures(customer, type, origin)]


def test_every_check_guarding_acceptance_has_a_case_here():
    assert {c.code for c in REGISTRY if ACCEPT in c.guards} == {*IDS, "public_link.new_account"}


def test_acceptance_lists_every_check_of_r3_for_the_offered_type_and_way(db):
    customer = fresh_customer()

    def listed(type, origin):
        results = accept_checks(customer, partner=f.PartnerFactory(), type=type, origin=origin)
        assert all(result.passed and result.title for result in results)
        return [result.code for result in results]

    expected = {t: [code for code, guards in EXPECTED_GUARDS.items() if t in guards.get(ACCEPT, ())] for t in BOTH}
    assert listed("referral", "invitation") == [c for c in expected[REF] if c != "public_link.new_account"]
    assert listed("reseller", "public_link") == expected[RES]


@pytest.mark.parametrize("code, make, types, message, advice", CASES, ids=IDS)
def test_each_rule_fails_with_its_own_message_and_advice(db, code, make, types, message, advice):
    customer = make()
    for type in types:
        for origin in ("invitation", "public_link"):
            [failure] = accept_failures(customer, type, origin)
            assert failure.code == code
            assert message in failure.message and advice in failure.advice


@pytest.mark.parametrize("code, make, types, message, advice", CASES, ids=IDS)
def test_each_rule_stays_silent_for_the_types_it_does_not_guard(db, code, make, types, message, advice):
    customer = make()
    for type in set(BOTH_TYPES) - set(types):
        assert accept_codes(customer, type) == []


@pytest.mark.parametrize("code, make, types, message, advice", CASES, ids=IDS)
def test_accepting_is_refused_with_the_message_and_nothing_changes(db, code, make, types, message, advice):
    customer = make()
    partner = f.PartnerFactory(name="Acme Cloud")
    invitation = f.InvitationFactory(partner=partner, type=types[0])
    client = Client()
    client.force_login(customer.user, backend="organization.backends.RolePermissionBackend")
    url = reverse("account_center:invitation", args=[services.invitation_token(invitation)])
    page = client.get(url)
    assert [result.code for result in page.context["results"] if not result.passed] == [code]
    assert f'data-check="{code}"'.encode() in page.content
    assert b"/accept/" not in page.content
    response = client.post(url + "accept/")
    assert response.status_code == 200
    assert any(message in error and advice in error for error in response.context["errors"])
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT
    assert not Association.objects.filter(partner=partner).exists()
    assert not OperationRecord.objects.exists()


def test_a_clean_new_account_passes_for_both_types(db):
    customer = fresh_customer()
    for type in BOTH_TYPES:
        for origin in ("invitation", "public_link"):
            assert accept_codes(customer, type, origin) == []


def test_every_failure_is_listed_not_only_the_first(db):
    customer = fresh_customer(special_contract=True, arrears=Decimal("1.00"), invoice_owed=True)
    assert accept_codes(customer, "reseller") == ["arrears", "invoice_owed", "special_contract"]
    with pytest.raises(ValidationError) as refused:
        services.invitation_accept(
            actor=customer.user, token=services.invitation_token(f.InvitationFactory(type="reseller"))
        )
    assert [error.code for error in refused.value.error_list] == ["arrears", "invoice_owed", "special_contract"]
    assert len(refused.value.messages) == 3


def test_expired_reserved_instances_do_not_count(db):
    customer = fresh_customer()
    f.ReservedInstanceFactory(customer=customer, expires_at=timezone.now() - timedelta(minutes=1))
    assert accept_codes(customer, "reseller") == []


def test_a_master_whose_subs_are_all_hosted_passes(db):
    master = fresh_customer(enterprise_role=Customer.EnterpriseRole.MASTER)
    f.CustomerFactory(enterprise_role=Customer.EnterpriseRole.SUB, enterprise_master=master, financially_hosted=True)
    assert accept_codes(master, "reseller") == []


def test_an_ended_association_does_not_count(db):
    customer = fresh_customer()
    f.AssociationFactory(customer=customer, status="ended", ended_at=timezone.now(), end_reason="unbind")
    assert accept_codes(customer, "referral") == []


@pytest.mark.parametrize(
    "registered_days_ago, has_consumption, fails",
    [(1, False, False), (6.9, False, False), (7.1, False, True), (1, True, True), (400, True, True)],
)
def test_the_public_link_is_for_new_accounts_only(db, registered_days_ago, has_consumption, fails):
    customer = f.CustomerWithUserFactory(
        registered_at=timezone.now() - timedelta(days=registered_days_ago), has_consumption=has_consumption
    )
    expected = ["public_link.new_account"] if fails else []
    assert accept_codes(customer, "referral", "public_link") == expected
    assert accept_codes(customer, "referral", "invitation") == []
    if fails:
        [failure] = accept_failures(customer, "referral", "public_link")
        assert failure.message == "The account must be a new account created within 7 days."
        assert "personal invitation" in failure.advice


def test_the_check_is_re_run_at_acceptance_not_taken_from_the_page(db):
    customer = fresh_customer()
    invitation = f.InvitationFactory(type="reseller")
    client = Client()
    client.force_login(customer.user, backend="organization.backends.RolePermissionBackend")
    url = reverse("account_center:invitation", args=[services.invitation_token(invitation)])
    assert b"/accept/" in client.get(url).content
    Customer.objects.filter(pk=customer.pk).update(invoice_owed=True)
    response = client.post(url + "accept/")
    assert response.status_code == 200 and "invoice is owed" in response.context["errors"][0]
    assert not Association.objects.exists()


def test_failures_are_shown_in_the_customers_language(db):
    customer = fresh_customer(arrears=Decimal("3.00"))
    invitation = f.InvitationFactory()
    client = Client()
    client.force_login(customer.user, backend="organization.backends.RolePermissionBackend")
    url = reverse("account_center:invitation", args=[services.invitation_token(invitation)])
    body = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "欠费" in body


def test_the_acceptance_page_lists_every_check_with_its_result_like_the_request_check_page(db):
    customer = fresh_customer(arrears=Decimal("3.00"))
    invitation = f.InvitationFactory(type="reseller")
    client = Client()
    client.force_login(customer.user, backend="organization.backends.RolePermissionBackend")
    url = reverse("account_center:invitation", args=[services.invitation_token(invitation)])
    body = client.get(url).content.decode()
    listed = [code for code, guards in EXPECTED_GUARDS.items() if RES in guards.get(ACCEPT, ())]
    for code in listed:
        if code != "public_link.new_account":
            assert f'data-check="{code}"' in body
    assert 'data-check="public_link.new_account"' not in body
    assert body.count("text-bg-danger") == 1 and body.count("text-bg-success") == len(listed) - 2
    assert "Your account is in arrears (3.00)." in body and "Top up your account" in body
    assert "check-list" in body


class TestWhoActs:
    """Every failure names who can make it pass (the API's ``who_acts``); a cooldown names
    nobody and the moment it clears."""

    def test_every_check_names_only_known_actors(self):
        from customers.checks import WHO_ACTS

        for check in REGISTRY:
            declared = check.acts.values() if isinstance(check.acts, dict) else [check.acts]
            for actors in [*declared, check.accept_acts]:
                assert set(actors) <= set(WHO_ACTS), check.code

    def test_arrears_are_the_customers_to_clear_on_referral_and_the_partners_on_reseller(self, make_association):
        for type, actor in ((REF, "customer"), (RES, "partner")):
            association = make_association(type)
            _customer_fact(arrears=Decimal("3.00"))(association)
            result = _result(association, U, "arrears")
            assert not result.passed and result.who_acts == (actor,)

    def test_a_frozen_account_is_lifted_by_whoever_froze_it(self, make_association):
        for source, actor, advice in (("partner", "partner", "The partner must unfreeze it first."),
                                      ("vendor", "vendor", "The vendor froze it: contact the vendor")):
            association = make_association(RES)
            _customer_fact(frozen=True, frozen_source=source)(association)
            result = _result(association, U, "customer.frozen")
            assert not result.passed and result.who_acts == (actor,) and result.advice.startswith(advice)

    def test_a_passed_check_names_nobody(self, make_association):
        assert _result(make_association(REF), U, "arrears").who_acts == ()

    def test_a_cooldown_names_nobody_and_its_moment(self, make_association):
        association = make_association(REF)
        f.AssociationRequestFactory(association=association, kind="unbind", status="rejected")
        result = _result(association, S, "cooldown.partner_request")
        assert not result.passed and result.who_acts == () and result.available_on is not None

    def test_a_special_contract_is_the_vendors_to_lift_even_when_accepting(self, make_association, partner):
        customer = f.CustomerFactory(special_contract=True)
        results = accept_checks(customer, partner=partner, type=RES, origin=Association.Origin.INVITATION)
        special = next(r for r in results if r.code == "special_contract")
        assert not special.passed and special.who_acts == ("vendor",)
