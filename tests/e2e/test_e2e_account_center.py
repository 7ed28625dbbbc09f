"""A customer in a real browser: the Account Center sign-in leads to My partner."""
import re

import pytest
from playwright.sync_api import expect

from partnercenter import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_customer_signs_in_and_sees_their_partner(page, check_page, customer):
    page.goto("/account-center/")
    expect(page).to_have_url(re.compile(r"/accounts/customer-login/"))
    check_page(page, "customer-login")
    page.get_by_label("Account name").fill("cust-one")
    page.get_by_label("Password").fill(f.DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/account-center/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Account Center")
    partner = page.get_by_role("region", name="My partner")
    expect(partner).to_contain_text("Acme Cloud")
    expect(partner).to_contain_text("Billed by your partner")
    check_page(page, "account-center")


def test_a_customer_sees_no_partner_pages(page, check_page, customer):
    page.goto("/accounts/customer-login/")
    page.get_by_label("Account name").fill("cust-one")
    page.get_by_label("Password").fill(f.DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/account-center/$"))

    page.goto("/customers/")
    expect(page.get_by_role("heading", level=1)).to_have_text("No access")
    expect(page.locator("main")).not_to_contain_text("Acme Cloud")
    check_page(page, "no-access")
