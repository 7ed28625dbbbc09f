"""Helpers shared by the API tests (tests/test_api_*.py)."""
import json
import uuid

from api import services
from api.models import ApiToken
from audit.models import OperationRecord
from customers.models import Association, Customer
from organization.models import Role, User

TOKENS = "/api/v1/tokens"
CURRENT = "/api/v1/tokens/current"
CUSTOMER_TOKENS = "/api/v1/customer-tokens"
CUSTOMERS = "/api/v1/customers"


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post_json(client, url, data, **extra):
    return client.post(url, data=json.dumps(data), content_type="application/json", **extra)


def code_of(response) -> str:
    return response.json()["code"]


def partner_token(member, api_key=None) -> str:
    return services.partner_token_create(member=member, api_key=api_key)[1]


def role_with(partner, *perms: str) -> Role:
    from django.contrib.auth.models import Permission

    role = Role.objects.create(partner=partner, name="API " + " ".join(perms))
    for perm in perms:
        app_label, codename = perm.split(".")
        role.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return role


def counts() -> dict:
    """What a refused call must leave unchanged."""
    return {
        "customers": Customer.objects.count(),
        "users": User.objects.count(),
        "associations": Association.objects.count(),
        "records": OperationRecord.objects.count(),
        "tokens": ApiToken.objects.count(),
    }


def isolate_registration_counts(settings) -> None:
    """Registration counts in a shared cache outlive the test (and the run): give each test a
    key prefix of its own so earlier registrations from the same address do not count. In the
    database they vanish with the test's transaction anyway."""
    if settings.CACHE_URL:
        settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
