"""The Account Center home: what the customer must answer, its partner, money and vouchers."""
from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from customers.models import Voucher
from partnercenter import factories as f

HOME = reverse("account_center:home")


def body(client) -> str:
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def test_a_partner_request_to_answer_shows_its_deadline_time_left_and_a_link(client, customer_user, customer):
    association = customer.associations.get()
    r = f.AssociationRequestFactory(association=association, kind="switch", deadline=timezone.now() + timedelta(days=3))
    client.force_login(customer_user)
    html = body(client)
    assert "Acme Cloud asks: Change how you are billed" in html
    assert "Answer by" in html and "2\xa0days" in html
    assert reverse("account_center:request_handle", args=[r.pk]) in html


def test_with_nothing_to_answer_the_home_says_so(client, customer_user, customer):
    client.force_login(customer_user)
    assert "Nothing waits for your answer." in body(client)


def test_an_own_dissociation_shows_when_it_is_approved_automatically(client, customer_user, customer):
    f.AssociationRequestFactory(association=customer.associations.get(), kind="dissociation")
    client.force_login(customer_user)
    html = body(client)
    assert "it is approved automatically on" in html
    assert "Nothing waits for your answer." not in html


def test_another_customers_request_is_not_shown(client, customer_user, customer, partner):
    other = f.AssociationFactory(partner=partner, customer=f.CustomerFactory(name="Someone Else"))
    f.AssociationRequestFactory(association=other, kind="unbind")
    client.force_login(customer_user)
    assert "Nothing waits for your answer." in body(client)


def test_balances_and_vouchers_about_to_expire_show_with_the_partners_currency(
    client, customer_user, customer, partner
):
    partner.currency = "CNY"
    partner.save(update_fields=["currency"])
    customer.allocated_balance = Decimal("12345.60")
    customer.save(update_fields=["allocated_balance"])
    now = timezone.now()
    for amount, days in [("100.00", 5), ("900.00", 90)]:
        Voucher.objects.create(
            partner=partner, customer=customer, amount=Decimal(amount), expires_at=now + timedelta(days=days)
        )
    Voucher.objects.create(
        partner=partner, customer=customer, amount=Decimal("7.00"), expires_at=now + timedelta(days=2), status="used"
    )
    client.force_login(customer_user)
    html = body(client)
    assert "CNY 12,345.60" in html
    assert "CNY 1,000.00" in html  # unused, unexpired vouchers
    assert "CNY 100.00, valid until" in html
    assert "CNY 900.00, valid until" not in html
    assert "CNY 7.00, valid until" not in html


def test_the_account_center_home_stays_within_its_query_budget(
    client, customer_user, customer, django_assert_max_num_queries
):
    f.AssociationRequestFactory(association=customer.associations.get(), kind="switch")
    client.force_login(customer_user)
    client.get(HOME)
    with django_assert_max_num_queries(14):
        assert client.get(HOME).status_code == 200
