"""English and Simplified Chinese in a real browser: the browser's language by default, and the
language switch in the header."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import assert_language, sign_in_member, switch_language, words

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

zh = words("zh-hans")


def test_a_chinese_browser_gets_chinese_pages(open_page, check_page, admin_member):
    page = open_page(locale="zh-CN")
    page.goto("/accounts/login/")
    assert_language(page, "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Member sign-in"))
    expect(page.get_by_label(zh("Partner account name"))).to_be_visible()
    check_page(page, "member-login-zh")


def test_the_language_switch_shows_chinese_pages_and_back(page, check_page, admin_member, customer):
    sign_in_member(page, "acme", "admin")
    page.goto("/customers/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Customer management")

    switch_language(page, "zh-hans")
    expect(page).to_have_url(re.compile(r"/customers/$"))
    assert_language(page, "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Customer management"))
    expect(page.get_by_role("button", name=zh("More actions for %(name)s", name="Customer One"))).to_be_visible()
    check_page(page, "customer-list-zh")

    # The choice sticks while browsing.
    page.get_by_role("link", name="Customer One").click()
    assert_language(page, "zh-hans")
    expect(page.get_by_role("heading", level=2, name=zh("Account facts"))).to_be_visible()
    check_page(page, "customer-detail-zh")

    switch_language(page, "en")
    expect(page.get_by_role("heading", level=2, name="Account facts")).to_be_visible()
