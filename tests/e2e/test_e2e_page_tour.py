"""Every page the partner administrator's menus lead to, in English and in Chinese: each one
loads, passes the accessibility basics, reads in the chosen language, and is screenshotted."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import assert_language, sign_in_member, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _menu_links(page) -> list[str]:
    """The distinct same-site pages of the header's menus, in menu order."""
    hrefs = page.locator("header nav").evaluate(
        """nav => [...nav.querySelectorAll("a.dropdown-item[href], a.nav-link[href]")]
               .map(a => a.getAttribute("href")).filter(h => h.startsWith("/"))"""
    )
    return list(dict.fromkeys(hrefs))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_menu_page_is_accessible_and_in_the_chosen_language(language, page, check_page, admin_member, customer):
    sign_in_member(page, "acme", "admin")
    if language != "en":
        switch_language(page, language)
    links = _menu_links(page)
    assert "/customers/" in links, links
    for href in links:
        response = page.goto(href)
        assert response is not None and response.ok, f"{href}: HTTP {response and response.status}"
        expect(page.locator("main h1").first).to_be_visible()
        assert_language(page, language)
        check_page(page, re.sub(r"\W+", "-", href).strip("-") or "home")
