"""Invitations (R2a), the public partner link (R2b), and the customer's side of both."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import OperationRecord
from customers.invitations import services as services
from customers.models import Association, Customer, Invitation
from partnercenter import factories as f
from tests.plans import explain

LIST = reverse("customers:invitation_list")
CREATE = reverse("customers:invitation_create")
PUBLIC_LINK_PAGE = reverse("customers:public_link")
HOME = reverse("account_center:home")
STRONG_PASSWORD = "Harbour-lantern-2026!"


def resend_url(invitation):
    return reverse("customers:invitation_resend", args=[invitation.pk])


def revoke_url(invitation):
    return reverse("customers:invitation_revoke", args=[invitation.pk])


def link(invitation, suffix=""):
    return reverse(f"account_center:invitation{suffix}", args=[services.invitation_token(invitation)])


def public(partner, type, suffix=""):
    return reverse(f"account_center:public_link{suffix}", args=[services.public_link_token(partner, type)])


def send(member, email="new@example.com", type="referral", language="en", name=""):
    return services.invitation_send(
        actor=member, email=email, name=name, type=type, language=language, base_url="http://testserver/"
    )


def events(**filters):
    return list(OperationRecord.objects.filter(**filters).order_by("id").values_list("event", flat=True))


def invite_form(email="new@example.com", type="referral", language="en", name="New Co"):
    return {"email": email, "name": name, "type": type, "language": language}


@pytest.fixture
def newcomer(db):
    """A customer account owner with no partner, registered yesterday, no consumption."""
    return f.CustomerWithUserFactory(
        account_name="newbie",
        name="Newbie Ltd",
        email="new@example.com",
        registered_at=timezone.now() - timedelta(days=1),
        has_consumption=False,
    )


@pytest.fixture
def customer_client(newcomer):
    client = Client()
    client.force_login(newcomer.user, backend="organization.backends.RolePermissionBackend")
    return client


# Sending ---------------------------------------------------------------------------------------

def test_a_member_invites_a_customer_and_the_email_goes_out_after_commit(
    as_user, admin_member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(admin_member).post(CREATE, invite_form())
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.status == Invitation.Status.SENT and invitation.type == "referral"
    assert invitation.expires_at - invitation.sent_at == timedelta(days=7)
    assert invitation.created_by == admin_member
    assert events() == ["invitation.sent"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    assert "http://testserver" + link(invitation) in mail.outbox[0].body
    assert "Acme Cloud" in mail.outbox[0].subject
    assert f"expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC" in mail.outbox[0].body


def test_the_email_waits_for_the_commit(admin_member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send(admin_member)
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1


def test_the_email_is_in_the_language_chosen_for_the_customer(admin_member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(admin_member, language="zh-hans", type="reseller")
    message = mail.outbox[0]
    assert message.subject == "Acme Cloud邀请您关联您的云账号"
    assert "邀请您将云账号与其关联，成为其代售客户" in message.body
    assert "invites you" not in message.body


def test_the_language_defaults_to_the_members_current_language(as_user, admin_member):
    client = as_user(admin_member)
    assert client.get(CREATE, HTTP_ACCEPT_LANGUAGE="zh-hans").context["form"]["language"].value() == "zh-hans"
    assert client.get(CREATE, HTTP_ACCEPT_LANGUAGE="en").context["form"]["language"].value() == "en"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"type": "both"}, "type"),
        ({"language": "klingon"}, "language"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_bad_input_is_a_form_error_and_sends_nothing(as_user, admin_member, data, field):
    response = as_user(admin_member).post(CREATE, {**invite_form(), **data})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Invitation.objects.exists() and events() == [] and mail.outbox == []


def test_the_daily_limit_refuses_one_more_and_changes_nothing(as_user, admin_member, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "INVITATIONS_PER_PARTNER_PER_DAY": 2}
    client = as_user(admin_member)
    for n in range(2):
        assert client.post(CREATE, invite_form(email=f"c{n}@example.com")).status_code == 302
    response = client.post(CREATE, invite_form(email="c3@example.com"))
    assert response.status_code == 200
    assert "2 invitations today, the daily maximum" in str(response.context["form"].non_field_errors())
    assert Invitation.objects.count() == 2 and events() == ["invitation.sent"] * 2


def test_yesterdays_invitations_do_not_count_against_today(admin_member, partner, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "INVITATIONS_PER_PARTNER_PER_DAY": 2}
    yesterday = timezone.localtime().replace(hour=0, minute=0) - timedelta(minutes=1)
    f.InvitationFactory.create_batch(2, partner=partner, sent_at=yesterday)
    send(admin_member)
    assert Invitation.objects.count() == 3


def test_another_partners_invitations_do_not_count(admin_member, other_partner, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "INVITATIONS_PER_PARTNER_PER_DAY": 1}
    f.InvitationFactory(partner=other_partner)
    send(admin_member)
    assert Invitation.objects.filter(partner=admin_member.partner).count() == 1


def test_a_second_open_invitation_to_the_same_email_is_refused(as_user, admin_member):
    send(admin_member, email="New@Example.com")
    response = as_user(admin_member).post(CREATE, invite_form(email="new@example.com"))
    assert "still open" in str(response.context["form"].non_field_errors())
    assert Invitation.objects.count() == 1


def test_an_expired_invitation_does_not_block_a_new_one(admin_member, partner):
    f.InvitationFactory(partner=partner, email="new@example.com", sent_at=timezone.now() - timedelta(days=8))
    send(admin_member)
    assert Invitation.objects.count() == 2


# Permissions and scope -------------------------------------------------------------------------

PARTNER_PAGES = [LIST, CREATE, PUBLIC_LINK_PAGE]


@pytest.mark.parametrize("url", PARTNER_PAGES)
def test_partner_pages_need_the_invite_permission(as_user, viewer, url):
    assert as_user(viewer).get(url).status_code == 403


@pytest.mark.parametrize("url", PARTNER_PAGES)
def test_partner_pages_send_anonymous_visitors_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url", PARTNER_PAGES)
def test_partner_pages_show_a_customer_the_no_access_page(as_user, customer_user, url):
    response = as_user(customer_user).get(url)
    assert response.status_code == 403 and b"No access" in response.content


def test_a_member_without_permission_cannot_resend_or_revoke(as_user, viewer, admin_member):
    invitation = send(admin_member)
    client = as_user(viewer)
    assert client.post(resend_url(invitation), invite_form(email="x@example.com")).status_code == 403
    assert client.post(revoke_url(invitation)).status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT and Invitation.objects.count() == 1


def test_another_partners_invitation_is_a_404_and_nothing_changes(as_user, other_member, admin_member):
    invitation = send(admin_member)
    client = as_user(other_member)
    assert client.get(resend_url(invitation)).status_code == 404
    assert client.post(resend_url(invitation), invite_form(email="x@example.com")).status_code == 404
    assert client.post(revoke_url(invitation)).status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT and Invitation.objects.count() == 1
    assert events() == ["invitation.sent"]


def test_a_customer_manager_sees_only_the_invitations_they_sent(as_user, manager, admin_member):
    send(admin_member, email="by-admin@example.com")
    send(manager, email="by-manager@example.com")
    body = as_user(manager).get(LIST).content
    assert b"by-manager@example.com" in body and b"by-admin@example.com" not in body


def test_the_customer_list_offers_invite_customer_only_with_the_permission(as_user, admin_member, viewer, customer):
    customers_list = reverse("customers:list")
    assert CREATE.encode() in as_user(admin_member).get(customers_list).content
    assert CREATE.encode() not in Client().get(customers_list).content
    viewer_client = Client()
    viewer_client.force_login(viewer, backend="organization.backends.RolePermissionBackend")
    assert CREATE.encode() not in viewer_client.get(customers_list).content


def test_the_sales_menu_has_leads_only_with_the_permission(as_user, admin_member, viewer, customer):
    assert LIST.encode() in as_user(admin_member).get(reverse("customers:list")).content
    viewer_client = Client()
    viewer_client.force_login(viewer, backend="organization.backends.RolePermissionBackend")
    assert LIST.encode() not in viewer_client.get(reverse("customers:list")).content


# Re-send and revoke ----------------------------------------------------------------------------

def test_resending_to_a_changed_email_kills_the_old_link_at_once(
    as_user, admin_member, customer_client, django_capture_on_commit_callbacks
):
    old = send(admin_member, email="old@example.com", type="reseller")
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(admin_member).post(
            resend_url(old), {"email": "new@example.com", "name": "Renamed", "language": "en"}
        )
    assert response.status_code == 302
    old.refresh_from_db()
    new = Invitation.objects.get(status=Invitation.Status.SENT)
    assert old.status == Invitation.Status.SUPERSEDED and old.superseded_by == new
    assert (new.email, new.name, new.type) == ("new@example.com", "Renamed", "reseller")
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    assert link(new) in mail.outbox[0].body
    dead = customer_client.get(link(old))
    assert dead.status_code == 410 and b"newer invitation" in dead.content
    assert customer_client.post(link(old, "_accept")).status_code == 410
    assert not Association.objects.exists()
    assert events() == ["invitation.sent", "invitation.resent"]
    resent = OperationRecord.objects.get(event="invitation.resent")
    assert resent.before["email"] == "old@example.com" and resent.after["email"] == "new@example.com"


def test_an_expired_invitation_can_be_resent(admin_member, partner):
    old = f.InvitationFactory(partner=partner, sent_at=timezone.now() - timedelta(days=9))
    new = services.invitation_resend(
        actor=admin_member, invitation=old, email=old.email, name="", language="en", base_url="http://testserver"
    )
    assert new.expires_at > timezone.now() + timedelta(days=6)
    assert Invitation.objects.get(pk=old.pk).status == Invitation.Status.SUPERSEDED


@pytest.mark.parametrize("status", ["accepted", "declined", "revoked", "superseded"])
def test_a_finished_invitation_cannot_be_resent(as_user, admin_member, partner, status):
    invitation = f.InvitationFactory(partner=partner, status=status)
    response = as_user(admin_member).post(resend_url(invitation), {"email": "x@example.com", "language": "en"})
    assert response.status_code == 200
    assert "can no longer be re-sent" in str(response.context["form"].non_field_errors())
    assert Invitation.objects.count() == 1 and events() == []


def test_resending_to_an_email_with_another_open_invitation_is_refused(as_user, admin_member):
    first = send(admin_member, email="a@example.com")
    send(admin_member, email="b@example.com")
    response = as_user(admin_member).post(resend_url(first), {"email": "b@example.com", "language": "en"})
    assert "still open" in str(response.context["form"].non_field_errors())
    first.refresh_from_db()
    assert first.status == Invitation.Status.SENT and Invitation.objects.count() == 2


def test_a_resend_counts_against_the_daily_limit(as_user, admin_member, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "INVITATIONS_PER_PARTNER_PER_DAY": 1}
    invitation = send(admin_member)
    response = as_user(admin_member).post(resend_url(invitation), {"email": invitation.email, "language": "en"})
    assert "daily maximum" in str(response.context["form"].non_field_errors())
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT and Invitation.objects.count() == 1


def test_revoking_kills_the_link(as_user, admin_member, customer_client):
    invitation = send(admin_member)
    client = as_user(admin_member)
    assert client.get(revoke_url(invitation)).status_code == 200
    assert client.post(revoke_url(invitation)).status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED and invitation.handled_at is not None
    dead = customer_client.get(link(invitation))
    assert dead.status_code == 410 and b"withdrew" in dead.content
    assert events() == ["invitation.sent", "invitation.revoked"]


def test_an_expired_invitation_cannot_be_revoked(as_user, admin_member, partner):
    invitation = f.InvitationFactory(partner=partner, sent_at=timezone.now() - timedelta(days=8))
    response = as_user(admin_member).post(revoke_url(invitation))
    assert response.status_code == 200
    assert b"Only an open invitation can be revoked; this one is expired." in response.content
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT and events() == []


def test_action_urls_refuse_other_methods(as_user, admin_member, customer_client):
    invitation = send(admin_member)
    assert as_user(admin_member).put(revoke_url(invitation)).status_code == 405
    assert customer_client.get(link(invitation, "_accept")).status_code == 405
    assert customer_client.get(link(invitation, "_decline")).status_code == 405


# The list --------------------------------------------------------------------------------------

@pytest.fixture
def one_of_each(partner):
    now = timezone.now()
    return {
        "sent": f.InvitationFactory(partner=partner, email="open@example.com"),
        "expired": f.InvitationFactory(partner=partner, email="late@example.com", sent_at=now - timedelta(days=8)),
        "accepted": f.InvitationFactory(partner=partner, email="yes@example.com", status="accepted"),
        "declined": f.InvitationFactory(partner=partner, email="no@example.com", status="declined"),
        "revoked": f.InvitationFactory(partner=partner, email="gone@example.com", status="revoked"),
        "superseded": f.InvitationFactory(partner=partner, email="older@example.com", status="superseded"),
    }


def test_the_list_shows_each_status_with_its_actions(as_user, admin_member, one_of_each):
    response = as_user(admin_member).get(LIST)
    rows = {i.email: i for i in response.context["page"].rows}
    assert {i.display_status for i in rows.values()} == set(one_of_each)
    body = response.content.decode()
    for status, invitation in one_of_each.items():
        assert f'data-status="{status}"' in body
        assert (resend_url(invitation) in body) is (status in ("sent", "expired"))
        assert (revoke_url(invitation) in body) is (status == "sent")
        assert (link(invitation) in body) is (status == "sent")
    assert "Copy link" in body and "Superseded" in body and "Expired" in body


@pytest.mark.parametrize("status", ["sent", "expired", "accepted", "superseded"])
def test_the_list_filters_by_status(as_user, admin_member, one_of_each, status):
    rows = as_user(admin_member).get(LIST, {"status": status}).context["page"].rows
    assert [i.pk for i in rows] == [one_of_each[status].pk]


def test_a_bad_filter_is_a_message_not_an_error(as_user, admin_member, one_of_each):
    response = as_user(admin_member).get(LIST, {"status": "drop table", "cursor": "forged"})
    assert response.status_code == 200 and b"not valid" in response.content


def test_the_list_searches_email_and_name(as_user, admin_member, partner):
    f.InvitationFactory(partner=partner, email="zebra@example.com", name="Zed")
    f.InvitationFactory(partner=partner, email="yak@example.com", name="Yakov")
    client = as_user(admin_member)
    assert [i.email for i in client.get(LIST, {"q": "ZEB"}).context["page"].rows] == ["zebra@example.com"]
    assert [i.email for i in client.get(LIST, {"q": "yakov"}).context["page"].rows] == ["yak@example.com"]


@pytest.mark.parametrize("rows", [5, 60])
def test_the_list_query_count_does_not_grow_with_rows(
    as_user, admin_member, partner, rows, django_assert_max_num_queries
):
    f.InvitationFactory.create_batch(rows, partner=partner, created_by=admin_member)
    client = as_user(admin_member)
    client.get(LIST)
    # session, user, roles, count, rows, sent today
    with django_assert_max_num_queries(6):
        response = client.get(LIST)
    assert len(response.context["page"].rows) == min(rows, 50)


# The customer's side ---------------------------------------------------------------------------

def test_a_customer_sees_the_partner_the_type_and_what_it_means(admin_member, customer_client):
    invitation = send(admin_member, type="reseller")
    body = customer_client.get(link(invitation)).content.decode()
    assert "Acme Cloud" in body and "Billed by your partner" in body and "Reseller" not in body
    assert "Your partner funds your account and invoices you." in body
    assert link(invitation, "_accept") in body and link(invitation, "_decline") in body


def test_accepting_begins_the_association_with_its_records(admin_member, customer_client, newcomer):
    invitation = send(admin_member, type="reseller")
    response = customer_client.post(link(invitation, "_accept"))
    assert response.status_code == 302 and response["Location"] == HOME
    association = Association.objects.get(customer=newcomer)
    assert (association.partner, association.type, association.origin, association.status) == (
        admin_member.partner, "reseller", "invitation", "active",
    )
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED and invitation.customer == newcomer
    assert events(customer=newcomer) == ["association.created", "invitation.accepted"]
    accepted = OperationRecord.objects.get(event="invitation.accepted")
    assert accepted.actor_kind == "customer" and accepted.association == association
    assert b"Acme Cloud" in customer_client.get(HOME).content


def test_declining_uses_up_the_link_and_associates_nothing(admin_member, customer_client, newcomer):
    invitation = send(admin_member)
    assert customer_client.post(link(invitation, "_decline")).status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.DECLINED and invitation.customer == newcomer
    assert not Association.objects.exists()
    assert events(customer=newcomer) == ["invitation.declined"]
    again = customer_client.get(link(invitation))
    assert again.status_code == 410 and b"declined" in again.content


@pytest.mark.parametrize(
    "status, sent_days_ago, message",
    [
        ("accepted", 0, b"already been accepted"),
        ("declined", 0, b"was declined"),
        ("sent", 8, b"expired on"),
        ("revoked", 0, b"withdrew this invitation"),
        ("superseded", 0, b"newer invitation"),
    ],
)
def test_a_link_that_no_longer_works_says_why_and_changes_nothing(
    customer_client, partner, newcomer, status, sent_days_ago, message
):
    invitation = f.InvitationFactory(
        partner=partner, status=status, sent_at=timezone.now() - timedelta(days=sent_days_ago)
    )
    page = customer_client.get(link(invitation))
    assert page.status_code == 410
    assert message in page.content and b"Ask your partner to send a new invitation." in page.content
    for suffix in ("_accept", "_decline"):
        assert customer_client.post(link(invitation, suffix)).status_code == 410
    assert Client().get(link(invitation, "_sign_up")).status_code == 410
    invitation.refresh_from_db()
    assert invitation.status == status and invitation.customer is None
    assert not Association.objects.exists() and events() == []


def _tampered_tokens(invitation, partner):
    token = services.invitation_token(invitation)
    value, signature = token.rsplit(":", 1)
    return {
        "signature changed": f"{value}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        "nonce changed": f"{value[:-1]}{'x' if value[-1] != 'x' else 'y'}:{signature}",
        "no signature": value,
        "signed with another key": signing.Signer(key="not-our-secret", salt="customers.invitation").sign(value),
        "a public link token": services.public_link_token(partner, "referral"),
        "unknown nonce, valid signature": signing.Signer(salt="customers.invitation").sign("no-such-nonce"),
        "far too long": "a" * 5000,
    }


def test_tampered_or_forged_invitation_links_are_refused_and_nothing_is_created(
    admin_member, customer_client, newcomer
):
    invitation = send(admin_member)
    for case, token in _tampered_tokens(invitation, admin_member.partner).items():
        for method, suffix in [("get", ""), ("post", "/accept"), ("post", "/decline"), ("get", "/sign-up")]:
            url = f"/account-center/invitations/{token}{suffix}/"
            response = getattr(customer_client, method)(url)
            assert response.status_code == 404, (case, suffix)
            assert b"This link is not valid" in response.content, (case, suffix)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT
    assert not Association.objects.exists() and events() == ["invitation.sent"]


def test_an_anonymous_visitor_may_sign_in_or_create_an_account(client, admin_member, newcomer):
    invitation = send(admin_member)
    page = client.get(link(invitation))
    assert page.status_code == 200
    assert page.context["sign_up_url"] == link(invitation, "_sign_up")
    sign_in = client.post(page.context["sign_in_url"], {"username": "newbie", "password": f.DEFAULT_PASSWORD})
    assert sign_in.status_code == 302 and sign_in["Location"] == link(invitation)
    assert link(invitation, "_accept").encode() in client.get(link(invitation)).content


def test_a_member_opening_a_link_is_told_to_use_a_customer_account(as_user, admin_member):
    invitation = send(admin_member)
    response = as_user(admin_member).get(link(invitation))
    assert response.status_code == 403 and b"customer account" in response.content
    assert as_user(admin_member).post(link(invitation, "_accept")).status_code == 403
    assert Invitation.objects.get().status == Invitation.Status.SENT


def test_accepting_needs_a_signed_in_customer(client, admin_member):
    invitation = send(admin_member)
    response = client.post(link(invitation, "_accept"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("customer_login"))
    assert Invitation.objects.get().status == Invitation.Status.SENT


def test_the_account_center_lists_the_invitations_waiting_for_the_customer(
    customer_client, admin_member, other_partner, partner
):
    open_one = send(admin_member, email="NEW@example.com")
    f.InvitationFactory(partner=other_partner, email="new@example.com", sent_at=timezone.now() - timedelta(days=8))
    f.InvitationFactory(partner=other_partner, email="someone-else@example.com")
    body = customer_client.get(HOME).content.decode()
    assert link(open_one) in body
    assert body.count("Review and accept") == 1


@pytest.mark.postgres
def test_on_postgresql_the_customers_invitations_are_found_by_the_email_index(customer, partner, other_partner):

    from customers.invitations.selectors import open_invitations_for_customer

    for n in range(30):
        f.InvitationFactory(partner=(partner, other_partner)[n % 2], email=f"someone-{n}@example.com")
    f.InvitationFactory(partner=other_partner, email=customer.email.upper())
    qs = open_invitations_for_customer(customer)[:20]
    plan = explain(qs, forbid=("seqscan", "bitmapscan", "sort"))
    assert "invitation_open_email" in plan and "Index Cond: (upper((email)::text)" in plan
    assert [i.email for i in qs] == [customer.email.upper()]


def test_the_account_center_says_when_no_invitation_waits(customer_client):
    assert b"No invitations are waiting for you." in customer_client.get(HOME).content


# Signing up from a link ------------------------------------------------------------------------

def sign_up_form(**overrides):
    return {
        "account_name": "fresh-co",
        "name": "Fresh Co",
        "email": "fresh@example.com",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
        **overrides,
    }


def test_a_visitor_creates_an_account_from_the_link_and_then_accepts(client, admin_member):
    invitation = send(admin_member, email="fresh@example.com", name="Fresh Co", type="reseller")
    form_page = client.get(link(invitation, "_sign_up"))
    assert form_page.context["form"]["email"].value() == "fresh@example.com"
    response = client.post(link(invitation, "_sign_up"), sign_up_form())
    assert response.status_code == 302 and response["Location"] == link(invitation)
    customer = Customer.objects.get(account_name="fresh-co")
    user = customer.user
    assert user.username == "fresh-co" and user.kind == "customer" and user.check_password(STRONG_PASSWORD)
    assert not customer.has_consumption and timezone.now() - customer.registered_at < timedelta(minutes=1)
    assert events() == ["invitation.sent", "customer.signed_up"]
    assert client.post(link(invitation, "_accept")).status_code == 302
    assert Association.objects.get(customer=customer).type == "reseller"


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"password1": "short", "password2": "short"}, "password1", "too short"),
        ({"password1": "fresh-co-fresh", "password2": "fresh-co-fresh"}, "password1", "too similar"),
        ({"password2": "Another-pass-2026!"}, "password2", "do not match"),
        ({"account_name": "Has Spaces"}, "account_name", "lower-case"),
        ({"account_name": "cust-one"}, "account_name", "taken"),
        ({"email": "CUST-ONE@customer.example.com"}, "email", "already registered"),
        ({"email": "admin@acme.example.com"}, "email", "already registered"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_sign_up_refuses_bad_input_and_creates_nothing(client, admin_member, customer, overrides, field, message):
    invitation = send(admin_member)
    users_before = get_user_model().objects.count()
    response = client.post(link(invitation, "_sign_up"), sign_up_form(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert get_user_model().objects.count() == users_before
    assert not Customer.objects.filter(account_name="fresh-co").exists()
    assert "_auth_user_id" not in client.session


def test_a_sign_up_that_loses_a_race_for_the_name_is_refused_cleanly(partner, customer):
    with pytest.raises(services.ValidationError) as refused:
        services.customer_sign_up(
            account_name="cust-one", name="Dup", email="dup@example.com", password=STRONG_PASSWORD,
            language="en", partner=partner,
        )
    assert "already registered" in refused.value.messages[0]
    assert not get_user_model().objects.filter(email="dup@example.com").exists()
    assert events() == []


def test_a_signed_in_visitor_is_sent_from_sign_up_to_the_offer(admin_member, customer_client):
    invitation = send(admin_member)
    response = customer_client.get(link(invitation, "_sign_up"))
    assert response.status_code == 302 and response["Location"] == link(invitation)


# The public partner link -----------------------------------------------------------------------

def test_the_partner_sees_a_public_link_for_each_type(as_user, admin_member):
    body = as_user(admin_member).get(PUBLIC_LINK_PAGE).content.decode()
    for type in ("referral", "reseller"):
        assert "http://testserver" + public(admin_member.partner, type) in body
    assert "within the last 7 days" in body


def test_a_new_account_joins_through_the_public_link(partner, customer_client, newcomer):
    assert b"Billed by your partner" in customer_client.get(public(partner, "reseller")).content
    response = customer_client.post(public(partner, "reseller", "_accept"))
    assert response.status_code == 302
    association = Association.objects.get(customer=newcomer)
    assert (association.partner, association.type, association.origin) == (partner, "reseller", "public_link")
    assert events(customer=newcomer) == ["association.created"]


def test_the_public_link_is_reusable(partner):
    for _ in range(2):
        c = f.CustomerWithUserFactory(registered_at=timezone.now(), has_consumption=False)
        client = Client()
        client.force_login(c.user, backend="organization.backends.RolePermissionBackend")
        assert client.post(public(partner, "referral", "_accept")).status_code == 302
    assert Association.objects.filter(partner=partner, origin="public_link").count() == 2


@pytest.mark.parametrize(
    "facts",
    [
        {"registered_at": timezone.now() - timedelta(days=8), "has_consumption": False},
        {"registered_at": timezone.now() - timedelta(hours=1), "has_consumption": True},
    ],
)
def test_the_public_link_refuses_an_account_that_is_not_new(partner, customer_client, newcomer, facts):
    Customer.objects.filter(pk=newcomer.pk).update(**facts)
    page = customer_client.get(public(partner, "referral"))
    assert b"The account must be a new account created within 7 days." in page.content
    assert public(partner, "referral", "_accept").encode() not in page.content
    response = customer_client.post(public(partner, "referral", "_accept"))
    assert response.status_code == 200
    assert "The account must be a new account created within 7 days." in response.context["errors"][0]
    assert not Association.objects.exists() and events() == []


def test_the_public_link_age_limit_is_a_setting(partner, customer_client, newcomer, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PUBLIC_LINK_MAX_ACCOUNT_AGE_DAYS": 30}
    Customer.objects.filter(pk=newcomer.pk).update(registered_at=timezone.now() - timedelta(days=20))
    assert customer_client.post(public(partner, "referral", "_accept")).status_code == 302


def test_a_visitor_signs_up_through_the_public_link_and_joins(client, partner):
    assert client.post(public(partner, "referral", "_sign_up"), sign_up_form()).status_code == 302
    assert client.post(public(partner, "referral", "_accept")).status_code == 302
    association = Association.objects.get(customer__account_name="fresh-co")
    assert association.origin == "public_link"
    assert OperationRecord.objects.get(event="customer.signed_up").partner == partner


def test_tampered_or_forged_public_links_are_refused(partner, customer_client):
    token = services.public_link_token(partner, "referral")
    value, signature = token.rsplit(":", 1)
    other_key = signing.Signer(key="not-our-secret", salt="customers.public_link")
    forged = [
        f"{value}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        signing.Signer(salt="customers.public_link").sign_object({"p": partner.pk, "t": "partner-pays-all"}),
        signing.Signer(salt="customers.public_link").sign_object({"p": 987654, "t": "referral"}),
        signing.Signer(salt="customers.public_link").sign_object(["not", "a", "dict"]),
        other_key.sign_object({"p": partner.pk, "t": "reseller"}),
        "garbage",
    ]
    for token in forged:
        assert customer_client.get(f"/account-center/join/{token}/").status_code == 404, token
        response = customer_client.post(f"/account-center/join/{token}/accept/")
        assert response.status_code == 404 and b"This link is not valid" in response.content
    assert not Association.objects.exists() and events() == []
