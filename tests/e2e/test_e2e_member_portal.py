"""A partner member in a real browser: member login → customer list → customer detail, and the
More menu used with the keyboard alone."""
import re

import pytest
from playwright.sync_api import expect

from partnercenter import factories as f
from tests.e2e.pages import sign_in_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_member_login_leads_to_the_customer_list_and_a_customer(page, check_page, admin_member, customer):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    check_page(page, "member-login")
    # The sign-in fields are found by their visible labels, as a screen reader user finds them.
    page.get_by_label("Partner account name").fill("acme")
    page.get_by_label("Member user name").fill("admin")
    page.get_by_label("Password").fill(f.DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Signing in leads to the partner home (issue 21), and from there to the customer list.
    expect(page).to_have_url(re.compile(r"/$"))
    page.goto("/customers/")
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Customer management")
    expect(page).to_have_title(re.compile("Customer management"))
    row = page.get_by_role("row").filter(has_text="cust-one")
    expect(row).to_contain_text("Customer One")
    expect(row).to_contain_text("Reseller")
    check_page(page, "customer-list")

    page.get_by_role("button", name="Sales").click()
    page.get_by_role("link", name="Customer management").click()
    expect(page).to_have_url(re.compile(r"/customers/$"))

    row.get_by_role("link", name="Customer One").click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Customer One")
    expect(page.locator("main")).to_contain_text("Acme Cloud")
    check_page(page, "customer-detail")

    page.get_by_role("button", name="Sign out").click()
    page.goto("/customers/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_a_wrong_password_is_refused_with_a_message(page, admin_member):
    sign_in_member(page, "acme", "admin")
    page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Partner account name").fill("acme")
    page.get_by_label("Member user name").fill("admin")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("main")).to_contain_text("password is wrong")


def test_the_more_menu_works_with_the_keyboard_alone(page, check_page, admin_member, customer):
    sign_in_member(page, "acme", "admin")
    page.goto("/customers/")
    expect(page).to_have_url(re.compile(r"/customers/$"))
    more = page.get_by_role("button", name="More actions for Customer One")

    # Tab reaches the menu button from the top of the page.
    page.locator("body").focus()
    for _ in range(60):
        page.keyboard.press("Tab")
        if more.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the More menu button")

    menu = page.locator(".dropdown-menu").filter(has=page.get_by_role("link", name="Details"))
    expect(more).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Space")
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    check_page(page, "more-menu-open")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(more).to_be_focused()

    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    items = menu.locator(".dropdown-item")
    count = items.count()
    assert count >= 1
    # Every item is on top where it is drawn: not clipped by the table's scroll box.
    covered = menu.evaluate(
        """menu => [...menu.querySelectorAll('.dropdown-item')].filter(el => {
             const r = el.getBoundingClientRect();
             const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
             return !(hit && el.contains(hit));
           }).map(el => el.textContent.trim())"""
    )
    assert not covered, f"menu items hidden behind other content: {covered}"
    # The arrow keys walk the items in order (and stop at the last one).
    for index in range(count):
        page.keyboard.press("ArrowDown")
        expect(items.nth(index)).to_be_focused()
    if count > 1:
        page.keyboard.press("ArrowUp")
        expect(items.nth(count - 2)).to_be_focused()
    # Move to "Details" with the arrow keys and follow it with Enter.
    details = menu.get_by_role("link", name="Details")
    for _ in range(count):
        if details.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("ArrowDown")
    expect(details).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
