"""Member login, customer login, throttling, sessions."""
import pytest
from django.urls import reverse

from partnercenter import factories as f

LOGIN = reverse("login")
CUSTOMER_LOGIN = reverse("customer_login")


def member_post(client, account="acme", name="admin", password=f.DEFAULT_PASSWORD):
    return client.post(LOGIN, {"partner_account": account, "member_name": name, "password": password})


def test_a_member_signs_in_with_partner_account_user_name_and_password(client, admin_member):
    response = member_post(client, account="ACME")
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).request["PATH_INFO"] == reverse("home")


def test_a_wrong_password_is_refused_with_a_message(client, admin_member):
    response = member_post(client, password="wrong")
    assert response.status_code == 200
    assert b"password is wrong" in response.content


def test_the_same_member_name_at_another_partner_does_not_sign_in(client, admin_member, other_member):
    other_member.set_password("Other-pass-123!")
    other_member.save()
    assert member_post(client, password="Other-pass-123!").status_code == 200


def test_a_disabled_member_is_told_so(client, admin_member):
    admin_member.is_active = False
    admin_member.save()
    assert b"disabled" in member_post(client).content


def test_a_customer_cannot_use_the_member_login(client, customer_user):
    response = client.post(LOGIN, {"partner_account": "x", "member_name": customer_user.username,
                                   "password": f.DEFAULT_PASSWORD})
    assert response.status_code == 200


def test_a_customer_signs_in_to_the_account_center(client, customer_user):
    response = client.post(CUSTOMER_LOGIN, {"username": "cust-one", "password": f.DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_center:home")
    body = client.get(reverse("account_center:home")).content
    assert b"My partner" in body and b"Acme Cloud" in body


def test_a_member_cannot_use_the_customer_login(client, admin_member):
    response = client.post(CUSTOMER_LOGIN, {"username": admin_member.username, "password": f.DEFAULT_PASSWORD})
    assert response.status_code == 200


def test_a_member_gets_no_access_in_the_account_center(as_user, admin_member):
    response = as_user(admin_member).get(reverse("account_center:home"))
    assert response.status_code == 403


def test_repeated_failures_lock_the_sign_in(client, admin_member, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        member_post(client, password="wrong")
    locked = member_post(client)  # even the right password is refused now
    assert locked.status_code in (403, 429)
    assert b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session


def test_the_session_key_rotates_at_sign_in(client, admin_member):
    client.get(LOGIN)
    session = client.session
    session["probe"] = 1
    session.save()
    before = session.session_key
    member_post(client)
    assert client.session.session_key != before


def test_sign_out_is_post_only_and_ends_the_session(as_user, admin_member):
    client = as_user(admin_member)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("customers:list")).status_code == 302


@pytest.mark.parametrize("language,text", [("zh-hans", "成员登录"), ("en", "Member sign-in")])
def test_the_sign_in_page_speaks_the_browsers_language(client, db, language, text):
    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE=language)
    assert text in response.content.decode()


def test_the_language_switch_changes_the_language(client, db):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": LOGIN})
    assert "成员登录" in client.get(LOGIN).content.decode()


def test_the_signed_in_user_is_read_with_their_partner_in_one_query(partner, admin_member, django_assert_num_queries):
    from organization.backends import RolePermissionBackend, signed_in_user

    operator = f.OperatorFactory()
    with django_assert_num_queries(1):
        user = signed_in_user(admin_member.pk)
        assert user.partner.pk == partner.pk  # read with the user, no second query
    assert signed_in_user(operator.pk).partner is None
    backend = RolePermissionBackend()
    assert backend.get_user(str(admin_member.pk)).pk == admin_member.pk  # the session keeps the id as text
    assert backend.get_user(10**9) is None and backend.get_user("not a number") is None
    admin_member.is_active = False
    admin_member.save()
    assert backend.get_user(admin_member.pk) is None
