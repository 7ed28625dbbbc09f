"""Input to API v1 must be valid Unicode and within its maximum lengths: a lone surrogate or
an oversized value is a 400 problem naming the field, and nothing changes."""
import pytest

from tests.api_helpers import CUSTOMER_TOKENS, CUSTOMERS, TOKENS, bearer, code_of, counts, partner_token


@pytest.fixture
def token(admin_member):
    return partner_token(admin_member)


def post_raw(client, url, text: str, **extra):
    """``text`` is sent as written, so JSON escapes like \\ud800 reach the server."""
    return client.post(url, data=text.encode(), content_type="application/json", **extra)


@pytest.mark.parametrize(
    "url, text, field",
    [
        (CUSTOMERS, '{"account_name": "uni-1", "name": "A \\ud800 B", "email": "a@uni.example.com"}', "name"),
        (CUSTOMERS, '{"account_name": "uni-1", "name": "Ok", "email": "\\udfff@uni.example.com"}', "email"),
        (TOKENS, '{"partner_account": "acme", "member_name": "admin", "password": "\\ud83d"}', "password"),
        (CUSTOMER_TOKENS, '{"customer_id": 1, "role": "\\ud800"}', "role"),
    ],
)
def test_a_lone_surrogate_is_400_naming_the_field(client, token, url, text, field):
    before = counts()
    response = post_raw(client, url, text, **bearer(token))
    assert response.status_code == 400 and code_of(response) == "validation_failed"
    assert list(response.json()["errors"]) == [field]
    assert "surrogate" in response.json()["errors"][field][0]
    assert counts() == before


def test_the_surrogate_message_is_in_the_callers_language(client, token):
    response = post_raw(client, CUSTOMERS, '{"name": "\\ud800"}', HTTP_ACCEPT_LANGUAGE="zh-hans", **bearer(token))
    assert response.json()["errors"]["name"] == ["此文本包含无效的 Unicode 字符（例如 \\ud800 这样的单独代理项）。"]
    assert response.json()["title"] == "请求无效"


def test_a_properly_paired_surrogate_escape_is_accepted(client, token):
    response = post_raw(
        client, CUSTOMERS, '{"account_name": "uni-2", "name": "Smile \\ud83d\\ude00", "email": "a@uni2.example.com"}',
        **bearer(token),
    )
    assert response.status_code == 201 and response.json()["name"] == "Smile 😀"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"account_name": "a" * 64, "name": "N", "email": "a@b.example.com"}, "account_name"),
        ({"account_name": "uni-3", "name": "N" * 201, "email": "a@b.example.com"}, "name"),
        ({"account_name": "uni-3", "name": "N", "email": "a" * 250 + "@b.example.com"}, "email"),
    ],
)
def test_an_oversized_value_is_400_naming_the_field(client, token, body, field):
    import json

    before = counts()
    response = post_raw(client, CUSTOMERS, json.dumps(body), **bearer(token))
    assert response.status_code == 400 and list(response.json()["errors"]) == [field]
    assert counts() == before


def test_an_oversized_query_parameter_is_400_naming_it(client, token):
    response = client.get(CUSTOMERS, {"q": "x" * 101}, **bearer(token))
    assert response.status_code == 400 and list(response.json()["errors"]) == ["q"]
