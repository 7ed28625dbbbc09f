"""The Account Center home: what the customer must answer, its partner, money and vouchers."""
import re
from datetime import UTC, timedelta
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


def test_the_unused_total_counts_every_unused_voucher_and_the_warning_lists_only_those_expiring_soon(
    client, customer_user, customer, partner
):
    """The total is summed by the database over every unused, unexpired voucher, also those
    neither among the latest rows nor expiring soon; expired, used and recovered ones are not."""
    now = timezone.now()
    for days in range(40, 70):  # 30 unused vouchers of 10.00, none expiring soon
        Voucher.objects.create(partner=partner, customer=customer, amount=Decimal("10.00"),
                               expires_at=now + timedelta(days=days))
    Voucher.objects.create(partner=partner, customer=customer, amount=Decimal("0.25"),
                           expires_at=now + timedelta(days=29))
    for status, days in [("used", 10), ("recovered", 10), ("unused", -1)]:
        Voucher.objects.create(partner=partner, customer=customer, amount=Decimal("1000.00"),
                               expires_at=now + timedelta(days=days), status=status)
    # The three 1000.00 and the 0.25 are the newest: 14 of the 10.00 ones are not among the
    # latest 20 rows, and count all the same.
    client.force_login(customer_user)
    html = body(client)
    assert unused_total(html) == "USD 300.25"
    assert html.count('class="expiring-voucher"') == 1 and "USD 0.25, valid until" in html


def test_a_voucher_about_to_expire_reads_its_amount_moment_and_time_left_in_the_language(
    client, customer_user, customer, partner
):
    """The row template writes the sentence as ``{% blocktranslate %}`` did: the moment's
    markup kept (not escaped), the amount in the partner's currency, the time left as
    ``|timeuntil`` words it, in English and in Chinese."""
    expires = timezone.now() + timedelta(days=9, minutes=5)
    Voucher.objects.create(partner=partner, customer=customer, amount=Decimal("1234.50"), expires_at=expires)
    client.force_login(customer_user)
    utc = expires.astimezone(UTC)
    moment = (f'<time datetime="{utc:%Y-%m-%dT%H:%M:%S}Z" title="{utc:%Y-%m-%d %H:%M} UTC">'
              f'{utc:%Y-%m-%d %H:%M}</time>')
    entry = re.search(r'<li class="expiring-voucher">(.*?)</li>', body(client)).group(1)
    assert entry == f"USD 1,234.50, valid until {moment} (in 1\xa0week, 2\xa0days)"
    client.cookies["django_language"] = "zh-hans"
    entry = re.search(r'<li class="expiring-voucher">(.*?)</li>', body(client)).group(1)
    assert entry == f"USD 1,234.50，有效期至 {moment}（1\xa0周，2\xa0日后）"


def test_with_no_unused_voucher_the_total_is_zero(client, customer_user, customer, partner):
    Voucher.objects.create(partner=partner, customer=customer, amount=Decimal("5.00"),
                           expires_at=timezone.now() + timedelta(days=3), status="used")
    client.force_login(customer_user)
    html = body(client)
    assert unused_total(html) == "USD 0.00" and 'class="expiring-voucher"' not in html


def unused_total(html: str) -> str:
    return re.search(r"Unused vouchers</h3>\s*<p[^>]*>([^<]*)</p>", html).group(1)


def test_the_account_center_home_stays_within_its_query_budget(
    client, customer_user, customer, django_assert_max_num_queries
):
    f.AssociationRequestFactory(association=customer.associations.get(), kind="switch")
    client.force_login(customer_user)
    client.get(HOME)
    with django_assert_max_num_queries(14):
        assert client.get(HOME).status_code == 200
