"""The OpenAPI schema the app serves, the documentation page built from it, and a schemathesis
run proving the API answers as the schema says: no server error, no undocumented status, no
response that breaks the schema, invalid input refused and valid input accepted."""
import json
import re
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, assume, settings

from api.auth import digest, new_secret
from api.errors import CODES
from api.models import ApiToken
from partnercenter import factories as f
from tests.api_helpers import isolate_registration_counts

SCHEMA = "/api/schema/"
DOCS = "/api/docs/"


@pytest.fixture(autouse=True)
def _own_registration_counts(settings):
    isolate_registration_counts(settings)


def test_the_schema_is_openapi_3_and_lists_every_endpoint(client, db):
    response = client.get(SCHEMA)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    document = response.json()
    assert document["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(document).validate()  # against the OpenAPI 3.0 meta-schema
    assert {(path, method) for path, item in document["paths"].items() for method in item} == {
        ("/api/tokens", "post"),
        ("/api/tokens/current", "get"),
        ("/api/customer-tokens", "post"),
        ("/api/customers", "get"),
        ("/api/customers", "post"),
    }


def test_every_error_code_the_schema_names_is_in_the_catalogue(client, db):
    document = client.get(SCHEMA).json()
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                error = response["content"]["application/json"]["schema"].get("properties", {}).get("error")
                if error:
                    assert set(error["properties"]["code"]["enum"]) <= set(CODES[int(status)])


def test_the_schema_speaks_the_callers_language(client, db):
    document = client.get(SCHEMA, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert document["paths"]["/api/customers"]["post"]["summary"] == "注册客户"


def test_the_docs_page_describes_every_operation_without_outside_assets(client, db):
    response = client.get(DOCS)
    assert response.status_code == 200
    body = response.content.decode()
    for operation_id in ["createPartnerToken", "getCurrentToken", "exchangeCustomerToken", "listCustomers",
                         "registerCustomer"]:
        assert f'id="{operation_id}"' in body
    assert "registration_limit_exceeded" in body and "customer_is_referral" in body
    assert body.count('class="try-it') == 5
    assert not re.search(r'(src|href)="(https?:)?//', body)
    script = client.get("/static/api/try-it.js")
    assert script.status_code == 200


def test_the_docs_page_is_translated(client, db):
    body = client.get(DOCS, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "试一试" in body and "注册客户" in body


# Loaded when the module is collected: serving the schema touches no database.
schema = schemathesis.openapi.from_wsgi(SCHEMA, get_wsgi_application())
# Schemathesis puts the credentials on cases while collecting, before any database exists;
# the fixture then stores this very token for the test's member.
FUZZ_TOKEN = new_secret("pct_")


@schema.auth()
class PartnerTokenAuth:
    """Schemathesis leaves the token out itself where it tests a missing Authorization."""

    def get(self, case, context):
        return FUZZ_TOKEN

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def api_token(db, settings):
    # Failed sign-ins would soon lock out the test client's address and hide every other answer.
    settings.AXES_FAILURE_LIMIT = 100_000
    # Requests go through the real WSGI handler, whose request signals close "old" database
    # connections; inside the test's transaction that would close the test's own connection.
    # Django's test client detaches the same handler for the same reason.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # The schema's example credentials (demo-sp, admin, the demo password) are valid here.
    partner = f.PartnerFactory(account_name="demo-sp")
    member = f.MemberFactory(partner=partner, member_name="admin")
    for account, kind in [("fuzz-reseller", "reseller"), ("fuzz-referral", "referral")]:
        f.AssociationFactory(partner=partner, customer=f.CustomerFactory(account_name=account), type=kind)
    ApiToken.objects.create(
        kind=ApiToken.Kind.PARTNER,
        token_hash=digest(FUZZ_TOKEN),
        partner=partner,
        member=member,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_schema(case, api_token):
    case.call_and_validate()


@schema.include(method="POST").parametrize()
@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_a_lone_surrogate_or_nul_in_any_body_field_is_a_400_naming_it(case, api_token, client):
    """Schemathesis generates valid Unicode only: here one string field of each generated body
    gets text that cannot be stored, and the answer must be the documented 400 naming it. The
    body goes out as JSON with ``\\u`` escapes (schemathesis's own client cannot encode it)."""
    body = case.body if isinstance(case.body, dict) else {}
    names = sorted(name for name, value in body.items() if isinstance(value, str))
    assume(names)
    name = names[len(str(body)) % len(names)]
    for other in names:  # schemathesis generates NUL (and surrogates), which the guard would name first
        body[other] = body[other].encode("utf-8", "ignore").decode().replace("\x00", "")
    body[name] += "\ud800" if len(body[name]) % 2 else "\x00"
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (case.headers or {}).items()}
    headers["HTTP_AUTHORIZATION"] = f"Bearer {FUZZ_TOKEN}"  # POST /api/tokens ignores it
    response = client.post(
        case.formatted_path, data=json.dumps(body), content_type="application/json", **headers
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in CODES[400] and list(error["fields"]) == [name]
