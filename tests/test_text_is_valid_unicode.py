"""Every string the API and the forms accept is valid Unicode text that the database stores:
a lone surrogate or a NUL is a 400 (a form error) naming the field, never a 500 (issue 15,
must fix 4)."""
import json

import pytest
from django import forms
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.errors import ApiError
from api.text import refuse_invalid_text
from partnercenter.text import ValidTextFormMixin, first_invalid_text
from tests.api_helpers import CUSTOMER_TOKENS, CUSTOMERS, TOKENS, bearer, code_of, counts, partner_token, post_json

BAD = ["\ud800", "a\udfffb", "x\udc80", "nul\x00"]


def fields_of(response) -> dict:
    assert response.status_code == 400, response.content
    assert code_of(response) == "validation_failed"
    return response.json()["errors"]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("field", ["partner_account", "member_name", "password"])
def test_a_token_request_with_invalid_text_is_400_naming_the_field(client, admin_member, bad, field):
    body = {"partner_account": "acme", "member_name": "admin", "password": "secret", field: bad}
    assert list(fields_of(post_json(client, TOKENS, body))) == [field]


@pytest.mark.parametrize("bad", BAD)
def test_a_customer_token_exchange_with_invalid_text_is_400(client, admin_member, bad):
    token = partner_token(admin_member)
    response = post_json(client, CUSTOMER_TOKENS, {"account_name": bad}, **bearer(token))
    assert list(fields_of(response)) == ["account_name"]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("field", ["account_name", "name", "email"])
def test_a_registration_with_invalid_text_is_400_and_changes_nothing(client, admin_member, bad, field):
    token = partner_token(admin_member)
    before = counts()
    body = {"account_name": "new-one", "name": "New One", "email": "it@new-one.example.com", field: bad}
    response = post_json(client, CUSTOMERS, body, **bearer(token))
    assert list(fields_of(response)) == [field]
    assert counts() == before


def test_an_invalid_field_name_is_named_escaped(client, admin_member):
    response = client.post(TOKENS, data=b'{"\\ud800": 1}', content_type="application/json")
    assert list(fields_of(response)) == ["\\ud800"]


def test_a_bare_invalid_string_body_is_400(client, db):
    response = client.post(TOKENS, data=b'"\\ud800"', content_type="application/json")
    assert list(fields_of(response)) == ["body"]


def test_the_first_invalid_string_is_found_by_its_path():
    value = {"ok": "fine", "items": [{"name": "good"}, {"name": "bad\ud800"}], "later": "\x00"}
    assert first_invalid_text(value)[0] == "items[1].name"
    assert first_invalid_text({"a": [1, 2.5, None, True, "x"]}) is None


# Text drawn from every code point, surrogates (category Cs) and NUL included: hypothesis's
# default alphabet leaves surrogates out, as schemathesis does.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from strings_in(child)
    elif isinstance(value, list):
        for child in value:
            yield from strings_in(child)


def storable(value) -> bool:
    """What the database takes: the whole value encodes as UTF-8 and holds no NUL."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any("\x00" in text for text in strings_in(value))


@given(value=json_values)
@settings(max_examples=300, deadline=None)
def test_a_value_is_refused_exactly_when_some_string_in_it_cannot_be_stored(value):
    try:
        refuse_invalid_text(value)
        refused = None
    except ApiError as error:
        refused = error
        json.dumps({"error": error.fields}, ensure_ascii=False).encode("utf-8")  # the answer itself encodes
    assert (refused is None) == storable(value)


@given(password=any_text, account=any_text)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_text_in_a_token_request_is_answered_without_a_server_error(client, admin_member, password, account):
    body = {"partner_account": account, "member_name": "admin", "password": password}
    response = client.post(TOKENS, data=json.dumps(body), content_type="application/json")
    assert response.status_code in (400, 401, 429)
    response.json()


# Forms ----------------------------------------------------------------------------------------


class NameForm(ValidTextFormMixin, forms.Form):
    name = forms.CharField()


@pytest.mark.parametrize("bad", ["\ud800", "a\udfffb"])
def test_the_form_guard_names_the_field_with_invalid_text(bad):
    form = NameForm({"name": bad})
    assert not form.is_valid()
    assert form.errors.as_data()["name"][0].code == "invalid_text"
    assert NameForm({"name": "张三 ok"}).is_valid()


def test_a_browser_post_cannot_carry_a_surrogate_and_a_nul_is_a_form_error(client, admin_member):
    """What actually reaches a portal form: URL-encoded and multipart bodies are decoded with
    replacement characters, so the UTF-8 bytes of a surrogate arrive as U+FFFD; a NUL arrives
    and Django's CharField refuses it."""
    url = reverse("login")
    response = client.post(url, data=b"partner_account=acme&member_name=%ED%A0%80&password=x",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.context["form"].data["member_name"] == "\ufffd\ufffd\ufffd"
    boundary = "BoUnDaRy"
    multipart = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"member_name\"\r\n\r\n".encode()
        + b"\xed\xa0\x80\r\n" + f"--{boundary}--\r\n".encode()
    )
    response = client.post(url, data=multipart, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 200
    assert "\ud800" not in response.context["form"].data["member_name"]
    response = client.post(url, {"partner_account": "acme", "member_name": "ad\x00min", "password": "x"})
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()


def test_the_public_sign_up_form_refuses_a_surrogate_fed_to_it_directly(partner):
    from customers.invitations.forms import CustomerSignUpForm

    data = {"account_name": "new-one", "name": "New\ud800", "email": "a@b.example.com",
            "password1": "A-long-pass-1234", "password2": "A-long-pass-1234"}
    form = CustomerSignUpForm(data)
    assert not form.is_valid() and "name" in form.errors
