"""Funds and vouchers: services, pages, refusals (SPEC §3.4–3.5, R11–R13)."""
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.events import Event
from audit.models import OperationRecord
from customers.funds import services as funds
from customers.models import Association, Customer, LedgerEntry, Voucher
from organization.models import Partner
from partnercenter import factories as f


def money(value) -> Decimal:
    return Decimal(value)


@pytest.fixture
def association(customer):
    return Association.objects.get(customer=customer, status="active")


@pytest.fixture
def funded(partner, customer, association, operator):
    """The partner topped up with 1000.00 and 200.00 of voucher quota; 300.00 allocated."""
    funds.partner_top_up(actor=operator, partner=partner, amount=money("1000.00"))
    funds.voucher_quota_top_up(actor=operator, partner=partner, amount=money("200.00"))
    funds.funds_allocate(actor=None, association=association, amount=money("300.00"))
    partner.refresh_from_db()
    customer.refresh_from_db()
    return association


def issue(association, amount="10.00", days=30, actor=None):
    return funds.voucher_issue(
        actor=actor,
        association=association,
        amount=money(amount),
        expires_at=timezone.now() + timedelta(days=days),
    )


# The two effects the request flow calls ----------------------------------------------------


def test_returning_on_end_moves_the_whole_allocated_balance_back(funded, partner, customer, admin_member):
    entry = funds.balance_return_on_end(actor=admin_member, association=funded, reason="unbound")
    partner.refresh_from_db()
    customer.refresh_from_db()
    assert customer.allocated_balance == 0
    assert partner.balance == money("1000.00")
    assert (entry.kind, entry.amount) == (LedgerEntry.Kind.RETURNED_ON_END, money("300.00"))
    assert (entry.partner_balance_after, entry.customer_balance_after) == (money("1000.00"), 0)
    rec = OperationRecord.objects.get(event=Event.FUNDS_RETURNED)
    assert (rec.category, rec.customer, rec.reason) == ("funds", customer, "unbound")


def test_returning_on_end_does_nothing_when_the_balance_is_zero(association, partner):
    assert funds.balance_return_on_end(actor=None, association=association) is None
    assert not LedgerEntry.objects.exists()
    assert not OperationRecord.objects.filter(event=Event.FUNDS_RETURNED).exists()


def test_returning_on_end_updates_the_callers_loaded_instances(funded, partner, customer):
    loaded = Association.objects.select_related("partner", "customer").get(pk=funded.pk)
    funds.balance_return_on_end(actor=None, association=loaded)
    assert loaded.customer.allocated_balance == 0
    assert loaded.partner.balance == money("1000.00")


def test_recovering_all_vouchers_returns_unused_ones_to_the_quota(funded, partner, customer, other_partner):
    kept = issue(funded, "20.00")
    expired = issue(funded, "30.00")
    Voucher.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    used = issue(funded, "40.00")
    Voucher.objects.filter(pk=used.pk).update(status=Voucher.Status.USED)
    foreign = Voucher.objects.create(
        partner=other_partner, customer=customer, amount=money("5.00"), expires_at=timezone.now() + timedelta(days=9)
    )

    recovered = funds.vouchers_recover_all(actor=None, association=funded, reason="ended")

    assert sorted(v.pk for v in recovered) == sorted([kept.pk, expired.pk])
    partner.refresh_from_db()
    assert partner.voucher_quota == money("160.00")
    assert Voucher.objects.get(pk=used.pk).status == Voucher.Status.USED
    assert Voucher.objects.get(pk=foreign.pk).status == Voucher.Status.UNUSED
    records = OperationRecord.objects.filter(event=Event.VOUCHERS_RECOVERED)
    assert records.count() == 1
    assert records.get().after["amount"] == "50.00"


def test_recovering_all_vouchers_writes_no_record_when_there_are_none(association):
    assert funds.vouchers_recover_all(actor=None, association=association) == []
    assert not OperationRecord.objects.filter(event=Event.VOUCHERS_RECOVERED).exists()


# Allocation and recovery (services) --------------------------------------------------------


def snapshot():
    """Everything a refused action must leave as it was."""
    return (
        list(Partner.objects.order_by("pk").values_list("pk", "balance", "voucher_quota")),
        list(Customer.objects.order_by("pk").values_list("pk", "allocated_balance")),
        list(LedgerEntry.objects.order_by("pk").values_list("pk", flat=True)),
        list(Voucher.objects.order_by("pk").values_list("pk", "status")),
        OperationRecord.objects.count(),
    )


def test_allocating_moves_money_from_the_partner_to_the_customer(funded, partner, customer, admin_member):
    entry = funds.funds_allocate(actor=admin_member, association=funded, amount=money("50.00"), reason="May budget")
    partner.refresh_from_db()
    customer.refresh_from_db()
    assert (partner.balance, customer.allocated_balance) == (money("650.00"), money("350.00"))
    assert (entry.kind, entry.amount, entry.actor, entry.actor_name) == (
        LedgerEntry.Kind.ALLOCATION, money("50.00"), admin_member, str(admin_member)
    )
    assert (entry.partner_balance_after, entry.customer_balance_after) == (money("650.00"), money("350.00"))
    rec = OperationRecord.objects.filter(event=Event.FUNDS_ALLOCATED).latest("id")
    assert (rec.category, rec.actor, rec.partner, rec.customer, rec.association_id, rec.reason) == (
        "funds", admin_member, partner, customer, funded.pk, "May budget"
    )
    assert rec.before == {"partner_balance": "700.00", "customer_balance": "300.00"}
    assert rec.after["partner_balance"] == "650.00" and rec.after["customer_balance"] == "350.00"


def test_recovering_moves_money_back_to_the_partner(funded, partner, customer, admin_member):
    entry = funds.funds_recover(actor=admin_member, association=funded, amount=money("300.00"))
    partner.refresh_from_db()
    customer.refresh_from_db()
    assert (partner.balance, customer.allocated_balance) == (money("1000.00"), 0)
    assert (entry.kind, entry.partner_balance_after, entry.customer_balance_after) == (
        LedgerEntry.Kind.RECOVERY, money("1000.00"), 0
    )
    assert OperationRecord.objects.filter(event=Event.FUNDS_RECOVERED, category="funds").count() == 1


@pytest.mark.parametrize("service", [funds.funds_allocate, funds.funds_recover])
def test_funds_are_refused_for_a_referral_customer(funded, service):
    Association.objects.filter(pk=funded.pk).update(type=Association.Type.REFERRAL)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        service(actor=None, association=funded, amount=money("1.00"))
    assert exc.value.messages == ["Funds cannot be allocated to or recovered from referral customers."]
    assert snapshot() == before


@pytest.mark.parametrize("service", [funds.funds_allocate, funds.funds_recover])
def test_funds_are_refused_once_the_association_has_ended(funded, service):
    stale = Association.objects.get(pk=funded.pk)
    Association.objects.filter(pk=funded.pk).update(status="ended", ended_at=timezone.now(), end_reason="unbind")
    before = snapshot()
    with pytest.raises(ValidationError, match="no longer associated"):
        service(actor=None, association=stale, amount=money("1.00"))
    assert snapshot() == before


def test_allocating_more_than_the_partner_balance_is_refused(funded):
    before = snapshot()
    with pytest.raises(ValidationError, match="not enough to allocate"):
        funds.funds_allocate(actor=None, association=funded, amount=money("700.01"))
    assert snapshot() == before


def test_allocating_exactly_the_partner_balance_leaves_zero(funded, partner):
    funds.funds_allocate(actor=None, association=funded, amount=money("700.00"))
    partner.refresh_from_db()
    assert partner.balance == 0


def test_recovering_more_than_the_allocated_balance_is_refused(funded):
    before = snapshot()
    with pytest.raises(ValidationError, match="less than"):
        funds.funds_recover(actor=None, association=funded, amount=money("300.01"))
    assert snapshot() == before


@pytest.mark.parametrize(
    "amount", [money("0"), money("-1.00"), money("0.001"), money("1000000.01"), money("NaN"), 10.5, "12"]
)
@pytest.mark.parametrize("service", [funds.funds_allocate, funds.funds_recover])
def test_the_services_refuse_a_bad_amount_whoever_calls_them(funded, service, amount):
    before = snapshot()
    with pytest.raises(ValidationError):
        service(actor=None, association=funded, amount=amount)
    assert snapshot() == before


def test_the_maximum_amount_is_a_setting(funded, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "MAX_FUNDS_AMOUNT": "100.00"}
    before = snapshot()
    with pytest.raises(ValidationError, match="at most 100.00"):
        funds.funds_allocate(actor=None, association=funded, amount=money("100.01"))
    assert snapshot() == before
    funds.funds_allocate(actor=None, association=funded, amount=money("100.00"))


def test_the_same_token_twice_has_one_effect_and_returns_the_first_result(funded, partner):
    first = funds.funds_allocate(actor=None, association=funded, amount=money("10.00"), idempotency_key="t-1")
    after_first = snapshot()
    second = funds.funds_allocate(actor=None, association=funded, amount=money("10.00"), idempotency_key="t-1")
    assert snapshot() == after_first
    assert second.pk == first.pk
    assert (first.replayed, second.replayed) == (False, True)


def test_a_token_used_for_another_action_is_refused(funded):
    funds.funds_allocate(actor=None, association=funded, amount=money("10.00"), idempotency_key="t-2")
    before = snapshot()
    with pytest.raises(ValidationError, match="already used for another operation"):
        funds.funds_recover(actor=None, association=funded, amount=money("10.00"), idempotency_key="t-2")
    assert snapshot() == before


def test_tokens_of_different_partners_never_collide(funded, other_partner, operator):
    funds.partner_top_up(actor=operator, partner=funded.partner, amount=money("1.00"), idempotency_key="same")
    entry = funds.partner_top_up(actor=operator, partner=other_partner, amount=money("1.00"), idempotency_key="same")
    assert entry.replayed is False
    other_partner.refresh_from_db()
    assert other_partner.balance == money("1.00")


# Top-ups ------------------------------------------------------------------------------------


def test_a_top_up_is_a_ledger_row_with_its_record(partner, operator):
    entry = funds.partner_top_up(actor=operator, partner=partner, amount=money("99.99"), reason="PO 17")
    partner.refresh_from_db()
    assert partner.balance == money("99.99")
    assert (entry.kind, entry.customer, entry.partner_balance_after) == (LedgerEntry.Kind.TOP_UP, None, money("99.99"))
    rec = OperationRecord.objects.get(event=Event.PARTNER_TOPPED_UP)
    assert (rec.category, rec.actor_kind, rec.reason) == ("funds", "operator", "PO 17")


def test_a_voucher_quota_top_up_leaves_the_money_balance_alone(partner, operator):
    funds.partner_top_up(actor=operator, partner=partner, amount=money("5.00"))
    entry = funds.voucher_quota_top_up(actor=operator, partner=partner, amount=money("20.00"))
    partner.refresh_from_db()
    assert (partner.balance, partner.voucher_quota) == (money("5.00"), money("20.00"))
    assert (entry.kind, entry.partner_balance_after) == (LedgerEntry.Kind.VOUCHER_QUOTA_TOP_UP, money("5.00"))
    assert OperationRecord.objects.get(event=Event.VOUCHER_QUOTA_TOPPED_UP).after["voucher_quota"] == "20.00"


def test_a_top_up_beyond_what_the_balance_can_hold_is_refused(partner, operator, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "MAX_FUNDS_AMOUNT": str(funds.MONEY_LIMIT)}
    funds.partner_top_up(actor=operator, partner=partner, amount=funds.MONEY_LIMIT)
    before = snapshot()
    with pytest.raises(ValidationError, match="above"):
        funds.partner_top_up(actor=operator, partner=partner, amount=money("0.01"))
    assert snapshot() == before


# Vouchers (services) ------------------------------------------------------------------------


def test_issuing_a_voucher_takes_it_from_the_quota(funded, partner, customer, admin_member):
    voucher = issue(funded, "25.50", actor=admin_member)
    partner.refresh_from_db()
    assert partner.voucher_quota == money("174.50")
    assert (voucher.partner, voucher.customer, voucher.status, voucher.issued_by) == (
        partner, customer, Voucher.Status.UNUSED, admin_member
    )
    rec = OperationRecord.objects.get(event=Event.VOUCHER_ISSUED)
    assert (rec.category, rec.after["voucher"], rec.after["voucher_quota"]) == ("voucher", voucher.pk, "174.50")


def test_vouchers_can_be_issued_to_referral_customers(funded, partner):
    Association.objects.filter(pk=funded.pk).update(type=Association.Type.REFERRAL)
    issue(funded, "1.00")
    assert Voucher.objects.count() == 1


def test_issuing_beyond_the_quota_is_refused(funded):
    before = snapshot()
    with pytest.raises(ValidationError, match="voucher quota"):
        issue(funded, "200.01")
    assert snapshot() == before


def test_issuing_a_voucher_that_has_already_expired_is_refused(funded):
    before = snapshot()
    with pytest.raises(ValidationError, match="future"):
        issue(funded, "1.00", days=-1)
    assert snapshot() == before


def test_issuing_to_an_ended_association_is_refused(funded):
    Association.objects.filter(pk=funded.pk).update(status="ended", ended_at=timezone.now(), end_reason="unbind")
    before = snapshot()
    with pytest.raises(ValidationError, match="no longer associated"):
        issue(funded, "1.00")
    assert snapshot() == before


def test_recovering_a_voucher_returns_it_to_the_quota(funded, partner, admin_member):
    voucher = issue(funded, "60.00")
    recovered = funds.voucher_recover(actor=admin_member, voucher=voucher)
    partner.refresh_from_db()
    assert partner.voucher_quota == money("200.00")
    assert recovered.status == Voucher.Status.RECOVERED and recovered.recovered_at is not None
    rec = OperationRecord.objects.get(event=Event.VOUCHER_RECOVERED)
    assert (rec.category, rec.association_id, rec.actor) == ("voucher", funded.pk, admin_member)


@pytest.mark.parametrize(
    ("status", "message"), [("recovered", "already been recovered"), ("used", "used and cannot be recovered")]
)
def test_only_an_unused_voucher_can_be_recovered(funded, status, message):
    voucher = issue(funded, "60.00")
    Voucher.objects.filter(pk=voucher.pk).update(status=status)
    before = snapshot()
    with pytest.raises(ValidationError, match=message):
        funds.voucher_recover(actor=None, voucher=voucher)
    assert snapshot() == before


def test_the_same_voucher_form_twice_issues_one_voucher(funded):
    args = {"actor": None, "association": funded, "amount": money("5.00"),
            "expires_at": timezone.now() + timedelta(days=3), "idempotency_key": "v-1"}
    first = funds.voucher_issue(**args)
    second = funds.voucher_issue(**args)
    assert first.pk == second.pk and second.replayed
    assert Voucher.objects.count() == 1


# Pages: allocate and recover ----------------------------------------------------------------


def url(name, *args):
    return reverse(f"customers:{name}", args=args)


def post_funds(client, action, customer, amount="10.00", token=None, **extra):
    return client.post(
        url(f"funds_{action}_submit", customer.pk),
        {"amount": amount, "token": token or uuid.uuid4().hex, **extra},
    )


def test_the_allocate_page_shows_the_balances_and_a_one_time_token(as_user, admin_member, funded, customer):
    response = as_user(admin_member).get(url("funds_allocate", customer.pk))
    assert response.status_code == 200
    assert b"700.00" in response.content and b"300.00" in response.content
    token = response.context["form"].initial["token"]
    assert uuid.UUID(token) and token.encode() in response.content


def test_every_opening_of_the_form_gets_a_new_token(as_user, admin_member, funded, customer):
    client = as_user(admin_member)
    first = client.get(url("funds_allocate", customer.pk)).context["form"].initial["token"]
    second = client.get(url("funds_allocate", customer.pk)).context["form"].initial["token"]
    assert first != second


@pytest.mark.parametrize("action", ["allocate", "recover"])
def test_a_member_with_permission_moves_funds_and_leaves_one_record(as_user, admin_member, funded, customer, action):
    records = OperationRecord.objects.count()
    response = post_funds(as_user(admin_member), action, customer, "25.00", reason="note")
    assert response.status_code == 302
    assert response["Location"] == url("detail", customer.pk) + "#funds"
    customer.refresh_from_db()
    assert customer.allocated_balance == (money("325.00") if action == "allocate" else money("275.00"))
    assert OperationRecord.objects.count() == records + 1
    rec = OperationRecord.objects.latest("id")
    assert (rec.actor, rec.reason, rec.category) == (admin_member, "note", "funds")


def test_the_finance_role_may_allocate_and_recover(as_user, partner, funded, customer):
    finance = f.MemberFactory(partner=partner, member_name="fin", roles=["finance"])
    client = as_user(finance)
    assert post_funds(client, "allocate", customer).status_code == 302
    assert post_funds(client, "recover", customer).status_code == 302


def test_a_double_submit_has_one_effect_and_shows_the_first_result(as_user, admin_member, funded, customer):
    client = as_user(admin_member)
    token = uuid.uuid4().hex
    first = post_funds(client, "allocate", customer, "40.00", token=token)
    after_first = snapshot()
    second = post_funds(client, "allocate", customer, "40.00", token=token)
    assert snapshot() == after_first
    assert second.status_code == 302 and second["Location"] == first["Location"]
    shown = [str(m) for m in client.get(second["Location"]).context["messages"]]
    assert "Allocated 40.00 to Customer One. Your balance is now 660.00." in shown
    assert "This form had already been submitted; it took effect only once." in shown


@pytest.mark.parametrize("action", ["allocate", "recover"])
def test_a_referral_customer_is_refused_with_a_form_error(as_user, admin_member, funded, customer, action):
    Association.objects.filter(pk=funded.pk).update(type=Association.Type.REFERRAL)
    client = as_user(admin_member)
    page = client.get(url(f"funds_{action}", customer.pk))
    assert b"Funds cannot be allocated to or recovered from referral customers." in page.content
    assert b'type="submit"' not in page.content.split(b"<main")[1]
    before = snapshot()
    response = post_funds(client, action, customer)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Funds cannot be allocated to or recovered from referral customers."
    ]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Enter an amount greater than zero."),
        ("0.00", "Enter an amount greater than zero."),
        ("-5", "Enter an amount greater than zero."),
        ("1.001", "Enter an amount with at most two decimal places."),
        ("1000000.01", "Enter an amount of at most 1000000.00."),
        ("99999999999999999999999", "Enter an amount of at most 1000000.00."),
        ("abc", "Enter an amount as a number, for example 100.00."),
        ("NaN", "Enter an amount as a number, for example 100.00."),
        ("Infinity", "Enter an amount as a number, for example 100.00."),
        ("1e400000", "Enter an amount as a number, for example 100.00."),
        ("1e3", "Enter an amount as a number, for example 100.00."),
        ("1E+3", "Enter an amount as a number, for example 100.00."),
        ("+5", "Enter an amount as a number, for example 100.00."),
        ("1,000", "Enter an amount as a number, for example 100.00."),
        ("1 000", "Enter an amount as a number, for example 100.00."),
        ("\uff11\uff10", "Enter an amount as a number, for example 100.00."),
        (".5", "Enter an amount as a number, for example 100.00."),
        ("", "Enter an amount."),
    ],
)
@pytest.mark.parametrize("action", ["allocate", "recover"])
def test_a_bad_amount_is_a_form_error_and_changes_nothing(as_user, admin_member, funded, customer, action, amount,
                                                          message):
    before = snapshot()
    response = post_funds(as_user(admin_member), action, customer, amount)
    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [message]
    assert snapshot() == before


def test_more_than_the_partner_balance_is_a_form_error(as_user, admin_member, funded, customer):
    before = snapshot()
    response = post_funds(as_user(admin_member), "allocate", customer, "700.01")
    assert response.context["form"].non_field_errors() == ["Your balance of 700.00 is not enough to allocate 700.01."]
    assert snapshot() == before


def test_more_than_the_customer_balance_is_a_form_error(as_user, admin_member, funded, customer):
    before = snapshot()
    response = post_funds(as_user(admin_member), "recover", customer, "300.01")
    assert response.context["form"].non_field_errors() == [
        "The customer's allocated balance of 300.00 is less than 300.01."
    ]
    assert snapshot() == before


@pytest.mark.parametrize("token", ["", "not-a-uuid", "x" * 65])
def test_a_missing_or_forged_token_is_a_form_error(as_user, admin_member, funded, customer, token):
    before = snapshot()
    response = as_user(admin_member).post(url("funds_allocate_submit", customer.pk), {"amount": "1.00", "token": token})
    assert response.status_code == 200
    assert "This form is out of date. Open it again and re-enter the values." in response.context[
        "form"
    ].non_field_errors()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "perm_owner"),
    [("funds_allocate", "allocate_funds"), ("funds_recover", "recover_funds"), ("voucher_issue", "issue_vouchers")],
)
def test_another_partners_customer_is_a_404_and_changes_nothing(as_user, other_member, funded, customer, name,
                                                                perm_owner):
    client = as_user(other_member)
    assert other_member.has_perm(f"customers.{perm_owner}")
    before = snapshot()
    assert client.get(url(name, customer.pk)).status_code == 404
    response = client.post(url(f"{name}_submit", customer.pk),
                           {"amount": "1.00", "expires_on": "2099-01-01", "token": uuid.uuid4().hex})
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("name", ["funds_allocate", "funds_recover", "voucher_issue"])
@pytest.mark.parametrize("persona", ["member_without_permission", "viewer"])
def test_a_member_without_the_permission_gets_403_and_changes_nothing(request, as_user, funded, customer, name,
                                                                      persona):
    client = as_user(request.getfixturevalue(persona))
    before = snapshot()
    assert client.get(url(name, customer.pk)).status_code == 403
    response = client.post(url(f"{name}_submit", customer.pk),
                           {"amount": "1.00", "expires_on": "2099-01-01", "token": uuid.uuid4().hex})
    assert response.status_code == 403
    assert snapshot() == before


def test_a_customer_manager_cannot_issue_to_a_customer_they_do_not_manage(as_user, manager, funded, customer):
    before = snapshot()
    client = as_user(manager)
    assert client.get(url("voucher_issue", customer.pk)).status_code == 404
    assert client.post(url("voucher_issue_submit", customer.pk), {"amount": "1"}).status_code == 404
    assert snapshot() == before


def test_a_customer_manager_issues_to_their_own_customer(as_user, manager, funded, customer):
    Customer.objects.filter(pk=customer.pk).update(manager=manager)
    response = as_user(manager).post(
        url("voucher_issue_submit", customer.pk),
        {"amount": "3.00", "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
         "token": uuid.uuid4().hex},
    )
    assert response.status_code == 302
    assert Voucher.objects.get().issued_by == manager


@pytest.mark.parametrize("name", ["funds_allocate_submit", "funds_recover_submit", "voucher_issue_submit"])
def test_the_submit_endpoints_accept_only_post(as_user, admin_member, funded, customer, name):
    assert as_user(admin_member).get(url(name, customer.pk)).status_code == 405


def test_a_submit_without_the_csrf_token_is_refused(admin_member, funded, customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_member, backend="organization.backends.RolePermissionBackend")
    before = snapshot()
    response = client.post(url("funds_allocate_submit", customer.pk), {"amount": "1.00", "token": uuid.uuid4().hex})
    assert response.status_code == 403
    assert snapshot() == before


def test_anonymous_visitors_are_sent_to_sign_in(client, funded, customer):
    response = client.get(url("funds_allocate", customer.pk))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# The Operation menu and the customer page ---------------------------------------------------


def test_the_menu_offers_funds_only_for_reseller_customers(as_user, admin_member, partner, funded, customer):
    referral = f.CustomerFactory(account_name="ref-1")
    f.AssociationFactory(partner=partner, customer=referral, type=Association.Type.REFERRAL)
    body = as_user(admin_member).get(reverse("customers:list")).content.decode()
    assert url("funds_allocate", customer.pk) in body and url("funds_recover", customer.pk) in body
    assert url("funds_allocate", referral.pk) not in body and url("funds_recover", referral.pk) not in body
    assert url("voucher_issue", customer.pk) in body and url("voucher_issue", referral.pk) in body


def test_the_menu_shows_only_what_the_member_may_do(as_user, partner, funded, customer):
    manager_role = f.MemberFactory(partner=partner, member_name="cm", roles=["customer_manager"])
    Customer.objects.filter(pk=customer.pk).update(manager=manager_role)
    body = as_user(manager_role).get(reverse("customers:list")).content.decode()
    assert url("voucher_issue", customer.pk) in body
    assert url("funds_allocate", customer.pk) not in body and url("funds_recover", customer.pk) not in body


def test_the_menu_adds_no_queries_per_row(as_user, admin_member, partner, django_assert_max_num_queries):
    for _ in range(30):
        f.AssociationFactory(partner=partner, type=Association.Type.RESELLER)
    client = as_user(admin_member)
    client.get(reverse("customers:list"))
    with django_assert_max_num_queries(6):
        body = client.get(reverse("customers:list")).content.decode()
    assert body.count("/funds/allocate/") == 30


def test_the_customer_page_shows_balances_vouchers_and_ledger(as_user, admin_member, funded, customer, other_partner):
    Customer.objects.filter(pk=customer.pk).update(cash_balance=money("12.34"), cash_withdraw_only=True)
    issue(funded, "11.11")
    foreign = Voucher.objects.create(partner=other_partner, customer=customer, amount=money("77.77"),
                                     expires_at=timezone.now() + timedelta(days=5))
    expired = issue(funded, "22.22")
    Voucher.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    body = as_user(admin_member).get(url("detail", customer.pk)).content.decode()
    assert "The partner funds and invoices this customer." in body
    assert "300.00" in body and "12.34" in body and "withdraw-only" in body
    assert "11.11" in body and "22.22" in body and "Expired" in body
    assert str(foreign.amount) not in body
    assert "Allocation" in body
    assert url("voucher_recover", expired.pk) in body


def test_the_customer_page_says_the_vendor_invoices_a_referral_customer(as_user, admin_member, funded, customer):
    Association.objects.filter(pk=funded.pk).update(type=Association.Type.REFERRAL)
    body = as_user(admin_member).get(url("detail", customer.pk)).content.decode()
    assert "The customer pays the vendor and invoices itself." in body
    assert url("funds_allocate", customer.pk) not in body


# Pages: vouchers -----------------------------------------------------------------------------


def issue_form(days=30, amount="10.00", **extra):
    return {"amount": amount, "expires_on": (timezone.localdate() + timedelta(days=days)).isoformat(),
            "token": uuid.uuid4().hex, **extra}


def test_issuing_a_voucher_from_the_page(as_user, admin_member, funded, customer, partner):
    response = as_user(admin_member).post(url("voucher_issue_submit", customer.pk), issue_form(days=10))
    assert response.status_code == 302
    voucher = Voucher.objects.get()
    expected_end = timezone.localdate() + timedelta(days=11)
    assert timezone.localtime(voucher.expires_at).date() == expected_end
    assert timezone.localtime(voucher.expires_at).time() == datetime.min.time()
    partner.refresh_from_db()
    assert partner.voucher_quota == money("190.00")


def test_a_voucher_valid_until_today_can_be_issued(as_user, admin_member, funded, customer):
    assert as_user(admin_member).post(url("voucher_issue_submit", customer.pk), issue_form(days=0)).status_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"expires_on": "2001-01-01"}, "expires_on", "Choose today or a later day."),
        ({"expires_on": "9999-12-31"}, "expires_on", "Choose a day at most 5 years ahead."),
        ({"expires_on": "31/12/2026x"}, "expires_on", "Enter a date such as 2026-12-31."),
        ({"amount": "0"}, "amount", "Enter an amount greater than zero."),
        ({"amount": "1.005"}, "amount", "Enter an amount with at most two decimal places."),
        ({"amount": "ten"}, "amount", "Enter an amount as a number, for example 100.00."),
    ],
)
def test_a_bad_voucher_form_is_a_form_error_and_changes_nothing(as_user, admin_member, funded, customer, data, field,
                                                                message):
    before = snapshot()
    response = as_user(admin_member).post(url("voucher_issue_submit", customer.pk), {**issue_form(), **data})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert snapshot() == before


def test_issuing_beyond_the_quota_is_a_form_error(as_user, admin_member, funded, customer):
    before = snapshot()
    response = as_user(admin_member).post(url("voucher_issue_submit", customer.pk), issue_form(amount="200.01"))
    assert response.context["form"].non_field_errors() == [
        "Your voucher quota of 200.00 is not enough to issue 200.01."
    ]
    assert snapshot() == before


def test_a_double_submitted_voucher_form_issues_one_voucher(as_user, admin_member, funded, customer):
    client = as_user(admin_member)
    data = issue_form()
    client.post(url("voucher_issue_submit", customer.pk), data)
    second = client.post(url("voucher_issue_submit", customer.pk), data)
    assert second.status_code == 302
    assert Voucher.objects.count() == 1


def test_the_voucher_list_shows_the_partners_vouchers_only(as_user, admin_member, funded, customer, other_partner):
    mine = issue(funded, "13.13")
    Voucher.objects.create(partner=other_partner, customer=customer, amount=money("77.77"),
                           expires_at=timezone.now() + timedelta(days=5))
    response = as_user(admin_member).get(url("voucher_list"))
    assert response.status_code == 200
    assert [v.pk for v in response.context["page"].rows] == [mine.pk]
    assert b"77.77" not in response.content


def test_the_voucher_list_filters_by_status_and_customer(as_user, admin_member, funded, customer, partner):
    fresh = issue(funded, "1.00")
    expired = issue(funded, "2.00")
    Voucher.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    recovered = funds.voucher_recover(actor=None, voucher=issue(funded, "3.00"))
    client = as_user(admin_member)

    def rows(**params):
        return [v.pk for v in client.get(url("voucher_list"), params).context["page"].rows]

    assert rows(status="unused") == [fresh.pk]
    assert rows(status="expired") == [expired.pk]
    assert rows(status="recovered") == [recovered.pk]
    assert rows(q="cust-one") == [recovered.pk, expired.pk, fresh.pk]
    assert rows(q="nobody-here") == []


def test_a_bad_voucher_filter_is_a_message_not_an_error(as_user, admin_member, funded):
    response = as_user(admin_member).get(url("voucher_list"), {"status": "drop table"})
    assert response.status_code == 200
    assert b"Some filters are not valid" in response.content


def test_the_voucher_list_pages_through_every_voucher_once(as_user, admin_member, funded, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 4}
    issued = {issue(funded, "1.00").pk for _ in range(10)}
    client = as_user(admin_member)
    seen, cursor = [], None
    while True:
        page = client.get(url("voucher_list"), {"cursor": cursor} if cursor else {}).context["page"]
        seen += [v.pk for v in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(issued)


def test_a_customer_manager_sees_only_their_customers_vouchers(as_user, manager, partner, funded, customer):
    theirs = f.CustomerFactory(account_name="managed", manager=manager)
    their_assoc = f.AssociationFactory(partner=partner, customer=theirs)
    mine = issue(their_assoc)
    issue(funded)
    response = as_user(manager).get(url("voucher_list"))
    assert [v.pk for v in response.context["page"].rows] == [mine.pk]


def test_the_voucher_list_needs_the_view_permission(as_user, member_without_permission):
    assert as_user(member_without_permission).get(url("voucher_list")).status_code == 403


def test_recovering_a_voucher_from_the_list(as_user, admin_member, funded, partner):
    voucher = issue(funded, "50.00")
    response = as_user(admin_member).post(url("voucher_recover", voucher.pk), {"next": url("voucher_list")})
    assert response.status_code == 302 and response["Location"] == url("voucher_list")
    voucher.refresh_from_db()
    partner.refresh_from_db()
    assert voucher.status == Voucher.Status.RECOVERED
    assert partner.voucher_quota == money("200.00")


def test_the_recover_forms_of_a_voucher_list_page_share_one_working_csrf_token(admin_member, funded, partner):
    """The rows write the page's masked token once worked out (partnercenter/templatetags/rows.py);
    the form a row posts is accepted with CSRF checks on."""
    import re

    vouchers = [issue(funded, "5.00") for _ in range(3)]
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_member, backend="organization.backends.RolePermissionBackend")
    html = client.get(url("voucher_list")).content.decode()
    tokens = re.findall(r'action="[^"]*/vouchers/\d+/recover/[^"]*" class="d-inline">\s*'
                        r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">', html)
    assert len(tokens) == 3 and len(set(tokens)) == 1
    response = client.post(url("voucher_recover", vouchers[0].pk),
                           {"csrfmiddlewaretoken": tokens[0], "next": url("voucher_list")})
    assert response.status_code == 302
    vouchers[0].refresh_from_db()
    assert vouchers[0].status == Voucher.Status.RECOVERED


def test_recovering_a_voucher_twice_explains_and_changes_nothing(as_user, admin_member, funded):
    voucher = issue(funded, "50.00")
    client = as_user(admin_member)
    client.post(url("voucher_recover", voucher.pk))
    before = snapshot()
    response = client.post(url("voucher_recover", voucher.pk), follow=True)
    assert "This voucher has already been recovered." in [str(m) for m in response.context["messages"]]
    assert snapshot() == before


def test_recovering_another_partners_voucher_is_a_404(as_user, other_member, funded):
    voucher = issue(funded, "50.00")
    before = snapshot()
    assert as_user(other_member).post(url("voucher_recover", voucher.pk)).status_code == 404
    assert snapshot() == before


def test_recovering_a_voucher_needs_the_permission(as_user, viewer, funded):
    voucher = issue(funded, "50.00")
    before = snapshot()
    assert as_user(viewer).post(url("voucher_recover", voucher.pk)).status_code == 403
    assert snapshot() == before


def test_recovering_a_voucher_is_post_only(as_user, admin_member, funded):
    voucher = issue(funded, "50.00")
    assert as_user(admin_member).get(url("voucher_recover", voucher.pk)).status_code == 405


def test_recovering_a_voucher_ignores_an_offsite_next(as_user, admin_member, funded):
    voucher = issue(funded, "50.00")
    response = as_user(admin_member).post(url("voucher_recover", voucher.pk), {"next": "https://evil.example.com/"})
    assert response["Location"] == url("voucher_list")


# Account Center ------------------------------------------------------------------------------


def test_the_account_center_shows_balances_vouchers_and_who_invoices(as_user, customer_user, funded, customer):
    Customer.objects.filter(pk=customer.pk).update(cash_balance=money("8.88"), cash_withdraw_only=True)
    issue(funded, "14.14")
    body = as_user(customer_user).get(reverse("account_center:home")).content.decode()
    assert "300.00" in body and "8.88" in body and "withdraw-only" in body
    assert "14.14" in body and "Acme Cloud" in body
    assert "Your partner funds your account and invoices you." in body


def test_the_account_center_shows_only_the_customers_own_vouchers(as_user, customer_user, funded, partner):
    other = f.CustomerFactory(account_name="someone-else")
    issue(f.AssociationFactory(partner=partner, customer=other), "66.66")
    body = as_user(customer_user).get(reverse("account_center:home")).content.decode()
    assert "66.66" not in body and "You have no vouchers." in body


# Operators: top-ups in the admin -------------------------------------------------------------


def top_up_url(partner):
    return reverse("admin:organization_partner_top_up", args=[partner.pk])


@pytest.mark.parametrize(("target", "field"), [("balance", "balance"), ("voucher_quota", "voucher_quota")])
def test_an_operator_tops_up_from_the_admin(as_user, operator, partner, target, field):
    client = as_user(operator)
    change_page = client.get(reverse("admin:organization_partner_change", args=[partner.pk]))
    assert top_up_url(partner) in change_page.content.decode()
    response = client.post(top_up_url(partner), {"target": target, "amount": "123.45", "reason": "PO 9",
                                                 "token": uuid.uuid4().hex})
    assert response.status_code == 302
    partner.refresh_from_db()
    assert getattr(partner, field) == money("123.45")
    entry = LedgerEntry.objects.get()
    assert (entry.actor, entry.amount) == (operator, money("123.45"))
    assert OperationRecord.objects.get(partner=partner).reason == "PO 9"


@pytest.mark.parametrize(
    ("data", "field"),
    [({"amount": "0"}, "amount"), ({"amount": "1.234"}, "amount"), ({"amount": "x"}, "amount"),
     ({"reason": ""}, "reason"), ({"target": "both"}, "target")],
)
def test_a_bad_top_up_is_a_form_error_and_changes_nothing(as_user, operator, partner, data, field):
    before = snapshot()
    response = as_user(operator).post(top_up_url(partner), {"target": "balance", "amount": "1.00", "reason": "r",
                                                            "token": uuid.uuid4().hex, **data})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert snapshot() == before


def test_a_double_submitted_top_up_counts_once(as_user, operator, partner):
    client = as_user(operator)
    data = {"target": "balance", "amount": "5.00", "reason": "r", "token": uuid.uuid4().hex}
    client.post(top_up_url(partner), data)
    client.post(top_up_url(partner), data)
    partner.refresh_from_db()
    assert partner.balance == money("5.00")
    assert LedgerEntry.objects.count() == 1


def test_the_top_up_page_is_for_operators_only(as_user, admin_member, partner):
    before = snapshot()
    response = as_user(admin_member).post(top_up_url(partner), {"target": "balance", "amount": "5.00", "reason": "r",
                                                                "token": uuid.uuid4().hex})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert snapshot() == before


def test_the_top_up_page_of_an_unknown_partner_is_a_404(as_user, operator):
    assert as_user(operator).get(reverse("admin:organization_partner_top_up", args=[999999])).status_code == 404


def test_the_ledger_and_vouchers_are_read_only_in_the_admin(as_user, operator, funded):
    client = as_user(operator)
    assert client.get(reverse("admin:customers_ledgerentry_changelist")).status_code == 200
    assert client.get(reverse("admin:customers_voucher_changelist")).status_code == 200
    assert client.get(reverse("admin:customers_ledgerentry_add")).status_code == 403
    entry = LedgerEntry.objects.first()
    before = snapshot()
    client.post(reverse("admin:customers_ledgerentry_change", args=[entry.pk]), {"amount": "1.00"})
    assert snapshot() == before


def test_a_funds_token_cannot_be_used_again_for_a_voucher(funded):
    funds.funds_allocate(actor=None, association=funded, amount=money("10.00"), idempotency_key="t-3")
    before = snapshot()
    with pytest.raises(ValidationError, match="already used for another operation"):
        funds.voucher_issue(actor=None, association=funded, amount=money("1.00"),
                            expires_at=timezone.now() + timedelta(days=1), idempotency_key="t-3")
    assert snapshot() == before


def test_a_refusal_is_shown_in_the_members_language(as_user, admin_member, funded, customer, settings):
    Association.objects.filter(pk=funded.pk).update(type=Association.Type.REFERRAL)
    client = as_user(admin_member)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = post_funds(client, "allocate", customer)
    body = response.content.decode()
    assert "不能向顾问销售客户拨款，也不能从顾问销售客户回收资金。" in body
    assert "referral" not in body.split("<main", 1)[-1].lower().replace("referral customers", "")


# Operators' edits never write back a stale balance ------------------------------------------


def test_an_admin_edit_of_a_partner_keeps_a_top_up_made_meanwhile(partner, operator):
    from organization.services import partner_update

    stale = Partner.objects.get(pk=partner.pk)
    funds.partner_top_up(actor=operator, partner=partner, amount=money("10.00"))
    funds.voucher_quota_top_up(actor=operator, partner=partner, amount=money("5.00"))
    stale.name = "Acme Renamed"
    partner_update(actor=operator, partner=stale, changed=["name"])
    partner.refresh_from_db()
    assert (partner.name, partner.balance, partner.voucher_quota) == ("Acme Renamed", money("10.00"), money("5.00"))


def test_an_admin_edit_of_a_customer_keeps_an_allocation_made_meanwhile(funded, customer, operator):
    from customers.services import customer_facts_save

    stale = Customer.objects.get(pk=customer.pk)
    funds.funds_allocate(actor=None, association=funded, amount=money("20.00"))
    stale.frozen = True
    customer_facts_save(actor=operator, customer=stale, changed=["frozen"])
    customer.refresh_from_db()
    assert (customer.frozen, customer.allocated_balance) == (True, money("320.00"))


# Operation protection (R22) -------------------------------------------------------------------


@pytest.mark.parametrize("action", ["allocate", "recover"])
def test_with_operation_protection_the_password_is_asked_first(as_user, admin_member, partner, funded, customer,
                                                              action):
    Partner.objects.filter(pk=partner.pk).update(operation_protection=True)
    client = as_user(admin_member)
    token = uuid.uuid4().hex
    before = snapshot()
    asked = post_funds(client, action, customer, "5.00", token=token)
    assert asked.status_code == 200 and b"operation_protection_password" in asked.content
    assert snapshot() == before
    wrong = post_funds(client, action, customer, "5.00", token=token, operation_protection_password="wrong")
    assert b"The password is not correct." in wrong.content
    assert snapshot() == before
    done = post_funds(client, action, customer, "5.00", token=token, operation_protection_password=f.DEFAULT_PASSWORD)
    assert done.status_code == 302
    assert LedgerEntry.objects.filter(idempotency_key=f"{partner.pk}:{token}").count() == 1


def test_messages_show_amounts_with_grouped_thousands(as_user, admin_member, funded, customer, operator):
    funds.partner_top_up(actor=operator, partner=funded.partner, amount=Decimal("5000.00"))
    client = as_user(admin_member)
    response = post_funds(client, "allocate", customer, "1000")
    shown = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert "Allocated 1,000.00 to Customer One. Your balance is now 4,700.00." in shown
    response = post_funds(client, "allocate", customer, "4700.01")
    assert response.context["form"].non_field_errors() == [
        "Your balance of 4,700.00 is not enough to allocate 4,700.01."
    ]
