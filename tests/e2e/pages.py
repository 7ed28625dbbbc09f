"""What the journeys do and check in a page: sign-ins, the accessibility basics, the words
a page shows in a given language."""
import re

from django.utils import translation
from playwright.sync_api import Page, expect

from partnercenter.factories import DEFAULT_PASSWORD

CJK = re.compile(r"[\u4e00-\u9fff]")

# Every control that is not type=hidden must have a name a screen reader can announce:
# a <label> associated with it (for= or wrapping), aria-label or aria-labelledby.
_UNLABELLED_CONTROLS_JS = """
() => {
  const text = (el) => (el && el.textContent || "").trim();
  const named = (el) =>
    [...(el.labels || [])].some((label) => text(label)) ||
    (el.getAttribute("aria-label") || "").trim() ||
    (el.getAttribute("aria-labelledby") || "").split(/\\s+/).some((id) => text(document.getElementById(id)));
  const problems = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    if (!named(el)) problems.push(el.outerHTML.slice(0, 160));
  }
  for (const el of document.querySelectorAll("button, [role=button], a[href]")) {
    if (!text(el) && !(el.getAttribute("aria-label") || "").trim() && !el.getAttribute("aria-labelledby")
        && !el.querySelector("img[alt]:not([alt=''])")) {
      problems.push(el.outerHTML.slice(0, 160));
    }
  }
  return problems;
}
"""

_LANDMARKS_JS = """
() => ({
  lang: document.documentElement.lang,
  title: document.title.trim(),
  banner: document.querySelectorAll("body > header, [role=banner]").length,
  navigation: document.querySelectorAll("nav, [role=navigation]").length,
  main: document.querySelectorAll("main, [role=main]").length,
  duplicateIds: [...new Set([...document.querySelectorAll("[id]")].map((el) => el.id)
    .filter((id, i, ids) => ids.indexOf(id) !== i))],
})
"""

# Roles of form controls in Chromium's accessibility tree.
_CONTROL_ROLES = {"textbox", "searchbox", "combobox", "listbox", "checkbox", "radio", "spinbutton", "slider", "switch"}


def _unnamed_in_accessibility_tree(page: Page) -> list[str]:
    """Form controls Chromium itself exposes without an accessible name."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    problems = []
    for node in nodes:
        role = node.get("role", {}).get("value")
        if node.get("ignored") or role not in _CONTROL_ROLES:
            continue
        if not str(node.get("name", {}).get("value", "")).strip():
            problems.append(f"{role} without a name (DOM node {node.get('backendDOMNodeId')})")
    return problems


def assert_accessible(page: Page) -> None:
    """The page has a language, a <title>, the header/nav/main landmarks, unique ids, and every
    control a name."""
    facts = page.evaluate(_LANDMARKS_JS)
    where = page.url
    assert facts["lang"], f"{where}: <html> has no lang"
    assert facts["title"], f"{where}: no <title>"
    assert facts["banner"] >= 1, f"{where}: no <header> landmark"
    assert facts["navigation"] >= 1, f"{where}: no <nav> landmark"
    assert facts["main"] == 1, f"{where}: expected one <main> landmark, found {facts['main']}"
    # A label's for= (and aria-labelledby) finds the first element of an id; a repeated id
    # leaves the later control unlabelled.
    assert not facts["duplicateIds"], f"{where}: ids used more than once: {facts['duplicateIds']}"
    unlabelled = page.evaluate(_UNLABELLED_CONTROLS_JS)
    assert not unlabelled, f"{where}: controls without a label: {unlabelled}"
    unnamed = _unnamed_in_accessibility_tree(page)
    assert not unnamed, f"{where}: {unnamed}"


def words(language: str):
    """``t = words("zh-hans"); t("Sign in")``: the text the app shows for a msgid in ``language``."""

    def t(msgid: str, **values) -> str:
        with translation.override(language):
            text = translation.gettext(msgid)
        return text % values if values else text

    return t


# The page's own words (not data such as names): menus, buttons, column headings, labels.
_UI_TEXTS_JS = """
() => [...document.querySelectorAll(
  "header .nav-link, header .dropdown-item, main .btn, main th, main label, main .nav-link"
)].map((el) => el.textContent.replace(/\\s+/g, " ").trim()).filter((text) => /[A-Za-z]/.test(text))
"""


def assert_language(page: Page, language: str) -> None:
    """The page is served in ``language``; in Chinese, its title, body and every menu, button,
    column heading and label read Chinese (an English one is a string left untranslated)."""
    expect(page.locator("html")).to_have_attribute("lang", language)
    if language.startswith("zh"):
        assert CJK.search(page.title()), f"{page.url}: the title is not Chinese: {page.title()!r}"
        assert CJK.search(page.locator("main").inner_text()), f"{page.url}: the page body is not Chinese"
        english = [text for text in page.evaluate(_UI_TEXTS_JS) if not CJK.search(text)]
        assert not english, f"{page.url}: untranslated words in a Chinese page: {english}"


def sign_in_member(page: Page, partner_account: str, member_name: str, password: str = DEFAULT_PASSWORD) -> None:
    """The member login (IAM-user style): partner account name, member user name, password."""
    page.goto("/accounts/login/")
    page.locator("input[name=partner_account]").fill(partner_account)
    page.locator("input[name=member_name]").fill(member_name)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def sign_in_customer(page: Page, account_name: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto("/accounts/customer-login/")
    page.locator("input[name=username]").fill(account_name)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account-center/"))


def switch_language(page: Page, language: str) -> None:
    """Use the language switch in the header, as a user does; the page reloads in that language."""
    with page.expect_navigation():
        page.locator("#language-switch").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
