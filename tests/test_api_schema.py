"""The OpenAPI document ninja generates for API v1, its docs page (assets served by the app,
no CDN), and a schemathesis run proving the API answers as the document says: no server
error, no undocumented status, no response that breaks the schema, invalid input refused and
valid input accepted."""
import json
import re
import uuid
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.config import PositiveDataAcceptanceConfig

from api.auth import digest, new_secret
from api.errors import CODES, OPEN_CODES
from api.models import ApiToken
from partnercenter import factories as f
from partnercenter.text import first_invalid_text
from tests.api_helpers import isolate_registration_counts

SCHEMA = "/api/v1/openapi.json"
DOCS = "/api/v1/docs"


@pytest.fixture(autouse=True)
def _own_registration_counts(settings):
    isolate_registration_counts(settings)


def operations(document) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item}


def test_the_document_is_openapi_3_1_and_lists_the_first_four_operations(client, db):
    response = client.get(SCHEMA)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    document = response.json()
    assert document["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(document).validate()
    assert {
        ("/api/v1/tokens", "post"),
        ("/api/v1/tokens/current", "get"),
        ("/api/v1/customer-tokens", "post"),
        ("/api/v1/customers", "get"),
        ("/api/v1/customers", "post"),
    } <= operations(document)


def test_every_error_the_document_names_is_a_problem_with_codes_from_the_catalogue(client, db):
    document = client.get(SCHEMA).json()
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                schema = response["content"]["application/problem+json"]["schema"]
                assert {"type", "title", "status", "detail", "code"} <= set(schema["required"])
                if int(status) not in OPEN_CODES:
                    assert set(schema["properties"]["code"]["enum"]) <= set(CODES[int(status)])


# Token issuing and webhook secrets are not replayable: a replay would have to store the secret
# it answered with. The billing system's usage posting is safe to retry by its own
# ``reference`` (it has no partner token to scope a key by).
NOT_REPLAYED = {
    "/api/v1/tokens", "/api/v1/customer-tokens", "/api/v1/webhooks", "/api/v1/webhooks/{endpoint_id}/rotate-secret",
    "/api/v1/billing/customers/{customer_id}/usage",
}


def test_every_post_documents_the_idempotency_key_header(client, db):
    document = client.get(SCHEMA).json()
    for path, item in document["paths"].items():
        if "post" in item and path not in NOT_REPLAYED:
            names = [p["name"] for p in item["post"].get("parameters", []) if p["in"] == "header"]
            assert "Idempotency-Key" in names
            assert {"409", "422"} <= set(item["post"]["responses"])


def test_the_docs_page_is_served_without_outside_assets(client, db):
    response = client.get(DOCS)
    assert response.status_code == 200
    body = response.content.decode()
    assert SCHEMA in body
    assert not re.search(r'(src|href)="(https?:)?//', body)
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', body):
        assert client.get(asset).status_code == 200, asset
    assert "/static/ninja/swagger-ui-bundle.js" in body


def test_the_old_addresses_redirect_keeping_method_and_body(client, db):
    for old, new in [
        ("/api/tokens", "/api/v1/tokens"),
        ("/api/customers?type=reseller", "/api/v1/customers?type=reseller"),
        ("/api/schema/", SCHEMA),
        ("/api/docs/", DOCS),
    ]:
        response = client.post(old) if old == "/api/tokens" else client.get(old)
        assert response.status_code == 308 and response["Location"] == new


# Loaded when the module is collected: serving the document touches no database.
schema = schemathesis.openapi.from_wsgi(SCHEMA, get_wsgi_application())
# Valid requests are accepted, refused by a rule (409) or by the limits (429), or told that
# the Idempotency-Key they carry was used with another body (422): schemathesis draws keys
# from a small alphabet and reuses them across examples.
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "401", "403", "404", "409", "422", "429"]
)
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
    # The document's example credentials (demo-sp, admin, the demo password) are valid here.
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
def test_the_api_keeps_to_its_document(case, api_token):
    case.call_and_validate()


@schema.include(method="POST").parametrize()
@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_a_lone_surrogate_or_nul_in_any_body_field_is_a_400_naming_it(case, api_token, client):
    """Schemathesis generates valid Unicode only: here one string field of each generated body
    gets text that cannot be stored, and the answer must be the documented 400 naming it. The
    body goes out as JSON with ``\\u`` escapes (schemathesis's own client cannot encode it)."""
    body = case.body if isinstance(case.body, dict) else {}
    # Generated properties may carry NUL or surrogates in their names or nested values, which the guard
    # would name first: keep the top-level strings (cleaned below) and what is valid text throughout.
    body = {
        key: value for key, value in body.items()
        if first_invalid_text(key) is None and (isinstance(value, str) or first_invalid_text(value) is None)
    }
    names = sorted(name for name, value in body.items() if name and isinstance(value, str))
    if not names:  # an operation without a text field in its body has nothing to test here
        return
    name = names[len(str(body)) % len(names)]
    for other in names:  # schemathesis generates NUL (and surrogates), which the guard would name first
        body[other] = body[other].encode("utf-8", "ignore").decode().replace("\x00", "")
    body[name] += "\ud800" if len(body[name]) % 2 else "\x00"
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (case.headers or {}).items()}
    headers["HTTP_AUTHORIZATION"] = f"Bearer {FUZZ_TOKEN}"  # POST /api/tokens ignores it
    headers["HTTP_IDEMPOTENCY_KEY"] = uuid.uuid4().hex  # a generated key would be refused first
    response = client.post(
        case.formatted_path, data=json.dumps(body), content_type="application/json", **headers
    )
    if response.status_code in (401, 403):  # authentication and permission come before the body
        return
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] in CODES[400] and list(problem["errors"]) == [name]


# Stateful: schemathesis follows the document's OpenAPI links (create → read → act) ----------------

# The links an integration follows, as (operation, status, linked operation): the test below
# fails if the document loses one, the stateful run if one leads to an error.
LINKS = {
    ("registerCustomer", "201", "getCustomer"), ("registerCustomer", "201", "getAccountCheck"),
    ("registerCustomer", "201", "submitRequest"), ("registerCustomer", "201", "allocateFunds"),
    ("registerCustomer", "201", "issueVoucher"), ("listCustomers", "200", "getCustomer"),
    ("submitRequest", "201", "getRequest"), ("submitRequest", "201", "cancelRequest"),
    ("listRequests", "200", "approveDissociation"), ("createInvitation", "201", "resendInvitation"),
    ("createInvitation", "201", "revokeInvitation"), ("allocateFunds", "201", "recoverFunds"),
    ("issueVoucher", "201", "recoverVoucher"), ("listRecords", "200", "getRecord"),
}


def document_links(document) -> set[tuple[str, str, str]]:
    return {
        (operation["operationId"], status, link["operationId"])
        for item in document["paths"].values() for operation in item.values()
        for status, response in operation["responses"].items() for link in response.get("links", {}).values()
    }


def test_the_document_links_creations_to_their_reads_and_actions(client, db):
    document = client.get(SCHEMA).json()
    assert LINKS <= document_links(document)
    ids = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert {target for _op, _status, target in document_links(document)} <= ids


@pytest.fixture
def funded_partner(api_token):
    from organization.models import Partner

    Partner.objects.filter(account_name="demo-sp").update(balance=10_000, voucher_quota=10_000)


# A schema of its own: only the document's links are followed (schemathesis would otherwise
# infer more and write them into the schema the stateless tests read).
linked_schema = schemathesis.openapi.from_wsgi(SCHEMA, get_wsgi_application())
linked_schema.config.checks.positive_data_acceptance = schema.config.checks.positive_data_acceptance
linked_schema.config.phases.stateful.inference.algorithms = []
# Invalid input is the stateless tests' part; here every step is meant to go through.
linked_schema.config.phases.stateful.generation.modes = [GenerationMode.POSITIVE]
linked_schema.auth()(PartnerTokenAuth)


def test_the_api_keeps_to_its_document_along_its_links(funded_partner):
    """Every step's answer is checked as in the stateless run (no server error, documented
    status, content type and schema); a step whose link found nothing to follow (an empty
    list) is fuzzed like any other call."""
    from django.db import transaction

    answered = set()

    class Scenario(linked_schema.as_state_machine()):
        """Each scenario starts from the fixture's data: it runs in a savepoint rolled back at
        its end (the API runs in this thread, on this connection), so what one scenario
        created cannot change what the next one draws."""

        def setup(self):
            super().setup()
            self._savepoint = transaction.atomic()
            self._savepoint.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self._savepoint.__exit__(None, None, None)
            super().teardown()

        def before_call(self, case):
            super().before_call(case)
            # A generated cursor never belongs to a list (a 404 by design): start at page one.
            if case.query:
                case.query.pop("cursor", None)

        def after_call(self, response, case):
            super().after_call(response, case)
            answered.add((case.operation.label, response.status_code // 100))

    Scenario.run(settings=settings(
        max_examples=30, stateful_step_count=8, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck),
    ))
    # Random ids find nothing: a 2xx from an address with an id came from following a link.
    reached = {label for label, kind in answered if kind == 2 and "{" in label}
    assert "GET /api/v1/customers/{customer_id}" in reached and len(reached) >= 3, sorted(reached)
