"""The main journey in a real browser, once in English and once in Chinese:

the partner administrator signs in with the member login and invites a customer; the customer
accepts in the Account Center; the partner requests a switch to reseller and the customer
agrees; the partner allocates funds; the customer asks to dissociate and the partner approves;
the records pages show every step. Each step is a function below, so a failure names its step.
Every page on the way is checked for the accessibility basics and screenshotted.
"""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from audit.events import Event
from customers.funds import services as funds
from partnercenter import factories as f
from tests.e2e.pages import assert_language, sign_in_customer, sign_in_member, switch_language, words

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER_EMAIL = "owner@newco.example.com"


@pytest.fixture
def newcomer(db):
    """A customer account with no partner yet: the one the partner invites."""
    return f.CustomerWithUserFactory(account_name="newco", name="NewCo Ltd", email=CUSTOMER_EMAIL)


@pytest.fixture
def funded_partner(partner, admin_member, operator):
    funds.partner_top_up(actor=operator, partner=partner, amount=Decimal("1000.00"), reason="e2e")
    return partner


class Journey:
    """The two people of the journey, each in their own browser context, and the language."""

    def __init__(self, *, language, partner_page: Page, customer_page: Page, check_page):
        self.language = language
        self.t = words(language)
        self.partner = partner_page
        self.customer = customer_page
        self._check_page = check_page

    def check(self, page: Page, name: str):
        assert_language(page, self.language)
        self._check_page(page, name)

    def message(self, page: Page, msgid: str, **values):
        expect(page.get_by_role("alert").filter(has_text=self.t(msgid, **values))).to_be_visible()

    def open_more_menu_item(self, item: str):
        """Customer list → the row's More menu → ``item``."""
        t, page = self.t, self.partner
        page.goto("/customers/")
        page.get_by_role("button", name=t("More actions for %(name)s", name="NewCo Ltd")).click()
        page.get_by_role("link", name=t(item), exact=True).click()


def partner_signs_in(j: Journey):
    sign_in_member(j.partner, "acme", "admin")
    if j.language != "en":
        switch_language(j.partner, j.language)
    # Signing in leads to the partner home (issue 21); the journey goes on from the customer list.
    expect(j.partner).to_have_url(re.compile(r"/$"))
    j.partner.goto("/customers/")
    expect(j.partner.get_by_role("heading", level=1)).to_have_text(j.t("Customer management"))
    j.check(j.partner, "partner-customer-list")


def partner_invites_the_customer(j: Journey):
    t, page = j.t, j.partner
    page.get_by_role("link", name=t("Invite customer"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Invite customer"))
    j.check(page, "partner-invite")
    page.get_by_label(t("Customer e-mail")).fill(CUSTOMER_EMAIL)
    page.get_by_label(t("Customer name (optional)")).fill("NewCo Ltd")
    page.get_by_label(t("Referral"), exact=True).check()
    page.get_by_role("button", name=t("Send invitation")).click()
    expect(page).to_have_url(re.compile(r"/customers/invitations/$"))
    row = page.get_by_role("row").filter(has_text=CUSTOMER_EMAIL)
    expect(row).to_contain_text(t("Sent"))
    j.check(page, "partner-invitations")


def customer_accepts_in_the_account_center(j: Journey, mailoutbox):
    t, page = j.t, j.customer
    assert [m.to for m in mailoutbox] == [[CUSTOMER_EMAIL]], "the invitation e-mail was not sent"
    sign_in_customer(page, "newco")
    invitations = page.get_by_role("region", name=t("Invitations"))
    expect(invitations).to_contain_text("Acme Cloud")
    j.check(page, "customer-account-center-invited")
    invitations.get_by_role("link", name=t("Review and accept")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Cloud")
    j.check(page, "customer-invitation-offer")
    page.get_by_role("button", name=t("Accept"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/account-center/$"))
    my_partner = page.get_by_role("region", name=t("My partner"))
    expect(my_partner).to_contain_text("Acme Cloud")
    expect(my_partner).to_contain_text(t("Billed by the vendor"))
    j.check(page, "customer-account-center-associated")


def partner_requests_a_switch(j: Journey):
    t, page = j.t, j.partner
    j.open_more_menu_item("Switch association type")
    expect(page.locator("[data-check]").first).to_be_visible()
    expect(page.locator("[data-check]").filter(has_text=t("Fail"))).to_have_count(0)
    j.check(page, "partner-switch-check")
    page.get_by_role("link", name=t("Continue")).click()
    j.check(page, "partner-switch-notes")
    page.get_by_label(t("I have understood the notes above and agree to this operation")).check()
    page.get_by_label(t("Reason")).fill("Moving NewCo to reseller billing")
    page.get_by_role("button", name=t("Submit the request")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("Switch association type"))
    j.check(page, "partner-switch-submitted")


def customer_agrees_to_the_switch(j: Journey):
    t, page = j.t, j.customer
    page.goto("/account-center/")
    page.get_by_role("link", name=t("Handle now")).first.click()
    j.check(page, "customer-switch-handle")
    decide = page.get_by_role("region", name=t("Agree or reject"))
    decide.get_by_label(t("I have understood the notes above and agree to this operation")).check()
    decide.get_by_role("button", name=t("Agree"), exact=True).click()
    page.goto("/account-center/")
    expect(page.get_by_role("region", name=t("My partner"))).to_contain_text(t("Billed by your partner"))
    j.check(page, "customer-account-center-reseller")


def partner_allocates_funds(j: Journey):
    t, page = j.t, j.partner
    j.open_more_menu_item("Allocate funds")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Allocate funds"))
    j.check(page, "partner-allocate")
    page.get_by_label(t("Amount")).fill("250.00")
    page.locator("main form").get_by_role("button", name=t("Allocate funds")).click()
    expect(page).to_have_url(re.compile(r"/customers/\d+/"))
    expect(page.get_by_role("alert").filter(has_text="250.00")).to_be_visible()
    j.check(page, "partner-customer-detail-funded")


def customer_asks_to_dissociate(j: Journey):
    t, page = j.t, j.customer
    page.goto("/account-center/")
    expect(page.locator("main")).to_contain_text("250.00")
    page.get_by_role("link", name=t("Dissociate from my partner")).click()
    expect(page.locator("[data-check]").filter(has_text=t("Fail"))).to_have_count(0)
    j.check(page, "customer-dissociate")
    page.get_by_label(t("I have understood the notes above and agree to this operation")).check()
    page.get_by_label(t("Reason")).fill("We buy directly from now on")
    page.get_by_role("button", name=t("Submit the dissociation request")).click()
    page.goto("/account-center/")
    expect(page.get_by_role("region", name=t("Requests"))).to_contain_text(t("End of the association, asked by you"))
    j.check(page, "customer-account-center-dissociation-pending")


def partner_approves_the_dissociation(j: Journey):
    t, page = j.t, j.partner
    page.goto("/customers/requests/")
    j.check(page, "partner-requests-inbox")
    row = page.get_by_role("row").filter(has_text="newco")
    row.get_by_role("link", name=t("Handle")).click()
    j.check(page, "partner-dissociation-request")
    decide = page.get_by_role("region", name=t("Approve or reject"))
    expect(decide.locator("[data-check]").filter(has_text=t("Fail"))).to_have_count(0)
    decide.get_by_label(t("I have understood the notes above and agree to this operation")).check()
    decide.get_by_role("button", name=t("Approve"), exact=True).click()
    page.goto("/customers/")
    expect(page.get_by_role("row").filter(has_text="newco")).to_have_count(0)
    j.check(page, "partner-customer-list-after")


def customer_is_on_their_own_again(j: Journey):
    t, page = j.t, j.customer
    page.goto("/account-center/")
    expect(page.get_by_role("region", name=t("My partner"))).to_contain_text(
        t("Your account is not associated with any partner.")
    )
    j.check(page, "customer-account-center-after")


JOURNEY_EVENTS = [
    Event.INVITATION_SENT,
    Event.INVITATION_ACCEPTED,
    Event.ASSOCIATION_CREATED,
    Event.REQUEST_SUBMITTED,
    Event.REQUEST_CONFIRMED,
    Event.ASSOCIATION_SWITCHED,
    Event.FUNDS_ALLOCATED,
    Event.REQUEST_APPROVED,
    Event.FUNDS_RETURNED,
    Event.ASSOCIATION_ENDED,
]


def records_show_every_step(j: Journey):
    t, page = j.t, j.partner
    page.get_by_role("link", name=t("Association operation records"), exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Association operation records"))
    j.check(page, "partner-records")
    table = page.locator("main table")
    for event in JOURNEY_EVENTS:
        expect(table.get_by_role("cell", name=t(event.label)).first, f"record of {event.value}").to_be_visible()
    # Both sides of the dissociation request left a submitted record (the switch's and the customer's).
    expect(table.get_by_role("cell", name=t(Event.REQUEST_SUBMITTED.label))).to_have_count(2)
    table.get_by_role("row").filter(has_text=t(Event.FUNDS_ALLOCATED.label)).get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("250.00")
    j.check(page, "partner-record-detail")

    j.customer.goto("/account-center/records/")
    own = j.customer.locator("main")
    for event in (Event.ASSOCIATION_CREATED, Event.ASSOCIATION_SWITCHED, Event.ASSOCIATION_ENDED):
        expect(own.get_by_text(t(event.label)).first, f"customer record of {event.value}").to_be_visible()
    j.check(j.customer, "customer-records")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_association_journey_from_invitation_to_dissociation(
    language, open_page, check_page, funded_partner, newcomer, mailoutbox
):
    journey = Journey(
        language=language,
        partner_page=open_page(locale="en-US"),
        # The Chinese customer's browser asks for Chinese; the partner uses the language switch.
        customer_page=open_page(locale="zh-CN" if language == "zh-hans" else "en-US"),
        check_page=check_page,
    )
    partner_signs_in(journey)
    partner_invites_the_customer(journey)
    customer_accepts_in_the_account_center(journey, mailoutbox)
    partner_requests_a_switch(journey)
    customer_agrees_to_the_switch(journey)
    partner_allocates_funds(journey)
    customer_asks_to_dissociate(journey)
    partner_approves_the_dissociation(journey)
    customer_is_on_their_own_again(journey)
    records_show_every_step(journey)
