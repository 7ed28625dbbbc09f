"""Authorization proven on every API v1 operation, data-driven like
tests/test_authorization_matrix.py: each operation of the OpenAPI document has one entry in
OPERATIONS (or ``test_every_operation_is_in_the_matrix`` fails), declaring its permissions,
how to build its path and body, and whether it acts on an object. From the entry:

- anonymous → 401; a token lacking any one required permission → 403; a token holding exactly
  them → neither 401 nor 403;
- an object of another partner → 404;
- a readonly customer token → 403 on every partner operation.
"""
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from api import services as api_services
from customers.controls import batches
from customers.invitations.services import invitation_token, public_link_token
from customers.models import Association, Voucher
from organization.models import Role
from organization.permissions import ALL_PORTAL_PERMISSIONS
from partnercenter import factories as f

V1 = "/api/v1"
USE_API = "organization.use_api"
VIEW = "customers.view_customer"
INVITE = "customers.invite_customers"
HOOKS = "webhooks.manage_webhooks"


class World:
    """Own partner "acme" (funds and quota) with its administrator and a reseller customer;
    another partner "globex" with its customer. Objects are made on first use."""

    def __init__(self):
        self.partner = f.PartnerFactory(
            account_name="acme", balance=Decimal("1000.00"), voucher_quota=Decimal("1000.00")
        )
        self.other_partner = f.PartnerFactory(account_name="globex")
        self.admin = f.MemberFactory(partner=self.partner, member_name="admin", roles=["system_admin"])
        self.customer = self._customer(self.partner, "own-cust")
        self.foreign = self._customer(self.other_partner, "foreign-cust")
        self._made = {}
        self._count = 0
        self.caller = self.admin

    @staticmethod
    def _customer(partner, account_name):
        customer = f.CustomerWithUserFactory(account_name=account_name)
        f.AssociationFactory(partner=partner, customer=customer, type=Association.Type.RESELLER)
        return customer

    def _once(self, key, make):
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    def association(self, customer):
        return Association.objects.get(customer=customer, status=Association.Status.ACTIVE)

    def unbind(self, customer):
        member = self.admin if customer == self.customer else f.MemberFactory(partner=self.other_partner)
        return self._once(("unbind", customer.pk), lambda: f.AssociationRequestFactory(
            association=self.association(customer), kind="unbind", requested_by=member))

    def dissociation(self, customer):
        return self._once(("dissociation", customer.pk), lambda: f.AssociationRequestFactory(
            association=self.association(customer), kind="dissociation", requested_by=customer.user))

    def voucher(self, customer):
        partner = self.partner if customer == self.customer else self.other_partner
        return self._once(("voucher", customer.pk), lambda: Voucher.objects.create(
            partner=partner, customer=customer, amount=Decimal("5.00"), expires_at=timezone.now() + timedelta(days=9),
            issued_by=self.admin))

    def foreign_switch(self, customer):
        """A pending switch on the customer's association started by a member of another
        partner (the one that would take the customer over): the customer may answer it."""
        return self._once(("switch", customer.pk), lambda: f.AssociationRequestFactory(
            association=self.association(customer), kind="switch",
            requested_by=f.MemberFactory(partner=self.other_partner)))

    def batch(self, customer, *, cancelled=False):
        """A queued batch on ``customer`` by a member of its partner (cancelled: to resume)."""
        member = self.admin if customer == self.customer else f.MemberFactory(partner=self.other_partner,
                                                                               roles=["system_admin"])

        def make():
            made = batches.batch_create(actor=member, action="budget", customer_ids=[customer.pk],
                                        amount=Decimal("10.00"))
            return batches.batch_cancel(actor=member, batch=made) if cancelled else made
        return self._once(("batch", customer.pk, cancelled), make)

    def record(self, customer):
        partner = self.partner if customer == self.customer else self.other_partner
        return self._once(("record", customer.pk), lambda: f.OperationRecordFactory(partner=partner, customer=customer))

    def api_key(self, customer):
        """A key of the own administrator, or of the other partner's member. The caller's own
        keys only: a key made by another member of one's partner is a 404 too."""
        if customer == self.customer:
            return self._once(("key", customer.pk), lambda: self.own_key())
        return self._once(("key", customer.pk), lambda: api_services.api_key_create(
            actor=f.MemberFactory(partner=self.other_partner), name="theirs")[0])

    def own_key(self):
        from api.auth import digest
        from api.models import ApiKey

        return ApiKey.objects.create(partner=self.partner, created_by=self.caller, name="own", prefix="pck_x",
                                     key_hash=digest(str(self._count) + "key"))

    def invitation(self, customer):
        partner = self.partner if customer == self.customer else self.other_partner
        creator = self.admin if customer == self.customer else f.MemberFactory(partner=self.other_partner)
        return self._once(("invitation", customer.pk), lambda: f.InvitationFactory(partner=partner, created_by=creator))

    def endpoint(self, customer, *, active=True):
        """A webhook endpoint of the own partner, or of the other partner."""
        from webhooks.models import Endpoint

        partner = self.partner if customer == self.customer else self.other_partner
        return self._once(("endpoint", customer.pk, active), lambda: Endpoint.objects.create(
            partner=partner, url="http://127.0.0.1:9/hooks", secret="whsec_" + "A" * 44, is_active=active))

    def delivery(self, customer):
        """A failed delivery (so it may be redelivered) to an endpoint of the customer's partner."""
        from webhooks.models import Delivery

        return self._once(("delivery", customer.pk), lambda: Delivery.objects.create(
            endpoint=self.endpoint(customer), event_id="evt_matrix", event="association.created", body="{}",
            status="failed", due_at=None))

    def member_with(self, perms):
        self._count += 1
        role = Role.objects.create(partner=self.partner, name=f"Exactly {self._count}")
        role.permissions.set(
            [Permission.objects.get(content_type__app_label=p.split(".")[0], codename=p.split(".")[1]) for p in perms]
        )
        return f.MemberFactory(partner=self.partner, member_name=f"persona{self._count}", roles=[role])

    def token(self, member) -> dict:
        self.caller = member
        return {"HTTP_AUTHORIZATION": f"Bearer {api_services.partner_token_create(member=member)[1]}"}

    def customer_token(self, role="readonly", member=None) -> dict:
        partner_token, _raw = api_services.partner_token_create(member=member or self.admin)
        _token, raw = api_services.customer_token_create(partner_token=partner_token, customer=self.customer, role=role)
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@dataclass
class Op:
    method: str
    path: Callable[[World, Any], str]
    perms: tuple[str, ...] = ()
    body: Callable[[World, Any], dict] | None = None
    # The path names an object: another partner's is a 404.
    object: bool = False
    public: bool = False
    # A customer token may use it too.
    customer_token: bool = False
    # Only a customer token (te_admin where it acts) may use it.
    customer_only: bool = False
    te_admin: bool = False
    # Only the vendor's billing system (its key, PC_BILLING_API_KEY): tests/test_controls_budget.py.
    billing: bool = False


def customer_path(suffix=""):
    return lambda w, c: f"{V1}/customers/{c.pk}{suffix}"


OPERATIONS: dict[str, Op] = {
    "createPartnerToken": Op("POST", lambda w, c: f"{V1}/tokens", public=True,
                             body=lambda w, c: {"partner_account": "acme", "member_name": "admin",
                                                "password": f.DEFAULT_PASSWORD}),
    "getCurrentToken": Op("GET", lambda w, c: f"{V1}/tokens/current", customer_token=True),
    "exchangeCustomerToken": Op("POST", lambda w, c: f"{V1}/customer-tokens", (VIEW,),
                                body=lambda w, c: {"customer_id": c.pk, "role": "readonly"}),
    "listCustomers": Op("GET", lambda w, c: f"{V1}/customers", (VIEW,)),
    "registerCustomer": Op("POST", lambda w, c: f"{V1}/customers", ("customers.invite_customers",),
                           body=lambda w, c: {"account_name": "matrix-new", "name": "New",
                                              "email": "new@matrix.example.com"}),
    "getCustomer": Op("GET", customer_path(), (VIEW,), object=True),
    "getAccountCheck": Op("GET", customer_path("/checks?action=unbind"), (VIEW,), object=True),
    "submitRequest": Op("POST", customer_path("/requests"), (VIEW, "customers.unbind_association"), object=True,
                        body=lambda w, c: {"kind": "unbind", "consent": True, "reason": "matrix"}),
    "listRequests": Op("GET", lambda w, c: f"{V1}/requests", ("customers.handle_dissociation",)),
    "getRequest": Op("GET", lambda w, c: f"{V1}/requests/{w.unbind(c).pk}", (VIEW,), object=True),
    "cancelRequest": Op("POST", lambda w, c: f"{V1}/requests/{w.unbind(c).pk}/cancel",
                        (VIEW, "customers.unbind_association"), object=True, body=lambda w, c: {}),
    "approveDissociation": Op("POST", lambda w, c: f"{V1}/requests/{w.dissociation(c).pk}/approve",
                              ("customers.handle_dissociation",), object=True, body=lambda w, c: {"consent": True}),
    "rejectDissociation": Op("POST", lambda w, c: f"{V1}/requests/{w.dissociation(c).pk}/reject",
                             ("customers.handle_dissociation",), object=True, body=lambda w, c: {"reason": "no"}),
    "allocateFunds": Op("POST", customer_path("/funds/allocate"), ("customers.allocate_funds",), object=True,
                        body=lambda w, c: {"amount": "1.00"}),
    "recoverFunds": Op("POST", customer_path("/funds/recover"), ("customers.recover_funds",), object=True,
                       body=lambda w, c: {"amount": "1.00"}),
    "getBalance": Op("GET", lambda w, c: f"{V1}/balance", (VIEW,)),
    "getCustomerControls": Op("GET", customer_path("/controls"), (VIEW,), object=True),
    "freezeCustomer": Op("POST", customer_path("/freeze"), ("customers.freeze_customers",), object=True,
                         body=lambda w, c: {"reason": "matrix"}),
    "unfreezeCustomer": Op("POST", customer_path("/unfreeze"), ("customers.freeze_customers",), object=True,
                           body=lambda w, c: {"reason": "matrix"}),
    "setCustomerBudget": Op("POST", customer_path("/budget"), ("customers.manage_budgets",), object=True,
                            body=lambda w, c: {"amount": "100.00"}),
    "previewBatch": Op("POST", lambda w, c: f"{V1}/batches/preview", (VIEW, "customers.freeze_customers"),
                       body=lambda w, c: {"action": "freeze", "customer_ids": [c.pk], "reason": "matrix"}),
    "createBatch": Op("POST", lambda w, c: f"{V1}/batches", (VIEW, "customers.freeze_customers"),
                      body=lambda w, c: {"action": "freeze", "customer_ids": [c.pk], "reason": "matrix"}),
    "getBatch": Op("GET", lambda w, c: f"{V1}/batches/{w.batch(c).pk}", (VIEW,), object=True),
    "listBatchRows": Op("GET", lambda w, c: f"{V1}/batches/{w.batch(c).pk}/rows", (VIEW,), object=True),
    "cancelBatch": Op("POST", lambda w, c: f"{V1}/batches/{w.batch(c).pk}/cancel", (VIEW,), object=True,
                      body=lambda w, c: {}),
    "resumeBatch": Op("POST", lambda w, c: f"{V1}/batches/{w.batch(c, cancelled=True).pk}/resume", (VIEW,),
                      object=True, body=lambda w, c: {}),
    "postCustomerUsage": Op("POST", lambda w, c: f"{V1}/billing/customers/{c.pk}/usage", billing=True,
                            body=lambda w, c: {"amount": "1.00"}),
    "listLedger": Op("GET", lambda w, c: f"{V1}/ledger", (VIEW,)),
    "issueVoucher": Op("POST", customer_path("/vouchers"), ("customers.issue_vouchers",), object=True,
                       body=lambda w, c: {"amount": "1.00",
                                          "expires_at": (timezone.now() + timedelta(days=9)).isoformat()}),
    "listVouchers": Op("GET", lambda w, c: f"{V1}/vouchers", (VIEW,)),
    "recoverVoucher": Op("POST", lambda w, c: f"{V1}/vouchers/{w.voucher(c).pk}/recover",
                         ("customers.issue_vouchers",), object=True, body=lambda w, c: {}),
    "createInvitation": Op("POST", lambda w, c: f"{V1}/invitations", (INVITE,),
                           body=lambda w, c: {"email": "new@invite.example.com", "type": "reseller"}),
    "listInvitations": Op("GET", lambda w, c: f"{V1}/invitations", (INVITE,)),
    "resendInvitation": Op("POST", lambda w, c: f"{V1}/invitations/{w.invitation(c).pk}/resend", (INVITE,),
                           object=True, body=lambda w, c: {"email": "again@invite.example.com"}),
    "revokeInvitation": Op("POST", lambda w, c: f"{V1}/invitations/{w.invitation(c).pk}/revoke", (INVITE,),
                           object=True, body=lambda w, c: {}),
    "listPublicLinks": Op("GET", lambda w, c: f"{V1}/public-links", (INVITE,)),
    "registerProject": Op("POST", lambda w, c: f"{V1}/projects", (INVITE,),
                          body=lambda w, c: {
                              "customer_id": c.pk, "name": "Migration", "expected_amount": "10.00",
                              "expected_close": (timezone.localdate() + timedelta(days=30)).isoformat(),
                          }),
    "listProjects": Op("GET", lambda w, c: f"{V1}/projects", (INVITE,)),
    "listRecords": Op("GET", lambda w, c: f"{V1}/records", ("audit.view_operationrecord",)),
    "exportRecords": Op("GET", lambda w, c: f"{V1}/records/export",
                        ("audit.view_operationrecord", "audit.export_records")),
    "getRecord": Op("GET", lambda w, c: f"{V1}/records/{w.record(c).pk}", ("audit.view_operationrecord",),
                    object=True),
    "listMembers": Op("GET", lambda w, c: f"{V1}/members", ("organization.manage_members",)),
    "listRoles": Op("GET", lambda w, c: f"{V1}/roles", ("organization.manage_roles",)),
    "listMyApiKeys": Op("GET", lambda w, c: f"{V1}/api-keys"),
    "revokeMyApiKey": Op("POST", lambda w, c: f"{V1}/api-keys/{w.api_key(c).pk}/revoke", object=True,
                         body=lambda w, c: {}),
    "assignCustomerManager": Op("POST", lambda w, c: f"{V1}/customer-managers",
                                (VIEW, "organization.manage_members"),
                                body=lambda w, c: {"customer_ids": [c.pk], "manager_id": None}),
    "getMyAccount": Op("GET", lambda w, c: f"{V1}/me", customer_only=True),
    "listMyVouchers": Op("GET", lambda w, c: f"{V1}/me/vouchers", customer_only=True),
    "listMyRecords": Op("GET", lambda w, c: f"{V1}/me/records", customer_only=True),
    "listMyRequests": Op("GET", lambda w, c: f"{V1}/me/requests", customer_only=True),
    "agreeToRequest": Op("POST", lambda w, c: f"{V1}/me/requests/{w.foreign_switch(c).pk}/agree", customer_only=True,
                         te_admin=True, body=lambda w, c: {"consent": True}),
    "rejectRequestAsCustomer": Op("POST", lambda w, c: f"{V1}/me/requests/{w.foreign_switch(c).pk}/reject",
                                  customer_only=True, te_admin=True, body=lambda w, c: {"reason": "no"}),
    "cancelRequestAsCustomer": Op("POST", lambda w, c: f"{V1}/me/requests/{w.dissociation(c).pk}/cancel",
                                  customer_only=True, te_admin=True, body=lambda w, c: {}),
    "listWebhookEventTypes": Op("GET", lambda w, c: f"{V1}/webhook-event-types", (HOOKS,)),
    "listWebhookEndpoints": Op("GET", lambda w, c: f"{V1}/webhooks", (HOOKS,)),
    "createWebhookEndpoint": Op("POST", lambda w, c: f"{V1}/webhooks", (HOOKS,),
                                body=lambda w, c: {"url": "http://127.0.0.1:9/new", "all_events": True}),
    "getWebhookEndpoint": Op("GET", lambda w, c: f"{V1}/webhooks/{w.endpoint(c).pk}", (HOOKS,), object=True),
    "updateWebhookEndpoint": Op("PATCH", lambda w, c: f"{V1}/webhooks/{w.endpoint(c).pk}", (HOOKS,), object=True,
                                body=lambda w, c: {"description": "matrix"}),
    "deleteWebhookEndpoint": Op("DELETE", lambda w, c: f"{V1}/webhooks/{w.endpoint(c).pk}", (HOOKS,), object=True),
    "disableWebhookEndpoint": Op("POST", lambda w, c: f"{V1}/webhooks/{w.endpoint(c).pk}/disable", (HOOKS,),
                                 object=True, body=lambda w, c: {}),
    "enableWebhookEndpoint": Op("POST", lambda w, c: f"{V1}/webhooks/{w.endpoint(c, active=False).pk}/enable",
                                (HOOKS,), object=True, body=lambda w, c: {}),
    "rotateWebhookSecret": Op("POST", lambda w, c: f"{V1}/webhooks/{w.endpoint(c).pk}/rotate-secret", (HOOKS,),
                              object=True, body=lambda w, c: {}),
    "sendWebhookTestEvent": Op("POST", lambda w, c: f"{V1}/webhooks/{w.endpoint(c).pk}/test", (HOOKS,),
                               object=True, body=lambda w, c: {}),
    "listWebhookDeliveries": Op("GET", lambda w, c: f"{V1}/webhooks/{w.endpoint(c).pk}/deliveries", (HOOKS,),
                                object=True),
    "redeliverWebhook": Op("POST", lambda w, c: f"{V1}/webhook-deliveries/{w.delivery(c).pk}/redeliver", (HOOKS,),
                           object=True, body=lambda w, c: {}),
    "requestDissociation": Op("POST", lambda w, c: f"{V1}/me/dissociation", customer_only=True, te_admin=True,
                              body=lambda w, c: {"reason": "leaving"}),
    # Offers of the other partner: the token's own partner's are refused (tests/test_api_offers.py).
    "acceptInvitation": Op("POST", lambda w, c: f"{V1}/me/invitations/accept", customer_only=True, te_admin=True,
                           body=lambda w, c: {"token": invitation_token(w.invitation(w.foreign))}),
    "declineInvitation": Op("POST", lambda w, c: f"{V1}/me/invitations/decline", customer_only=True, te_admin=True,
                            body=lambda w, c: {"token": invitation_token(w.invitation(w.foreign))}),
    "acceptPublicLink": Op("POST", lambda w, c: f"{V1}/me/public-link/accept", customer_only=True, te_admin=True,
                           body=lambda w, c: {"token": public_link_token(w.other_partner, "reseller")}),
}


def document_operations() -> set[str]:
    from api.v1.api import api

    document = api.get_openapi_schema(path_prefix="/api/v1/")
    return {op["operationId"] for item in document["paths"].values() for op in item.values()}


def test_every_operation_is_in_the_matrix():
    assert sorted(document_operations() - set(OPERATIONS)) == []


def test_the_matrix_names_only_operations_that_exist():
    assert sorted(set(OPERATIONS) - document_operations()) == []


def test_the_matrix_agrees_with_the_operations_auth():
    """An operation's declared permissions include what its auth class requires."""
    from api.v1.api import api

    for router_path, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                entry = OPERATIONS[operation.operation_id]
                for auth in operation.auth_callbacks:
                    assert set(auth.perms) - {USE_API} <= set(entry.perms), (router_path, operation.operation_id)


def send(client, op: Op, w, customer, headers):
    path = op.path(w, customer)
    if op.method in ("GET", "DELETE"):
        return client.generic(op.method, path, **headers)
    body = op.body(w, customer) if op.body else {}
    return client.generic(op.method, path, data=json.dumps(body), content_type="application/json", **headers)


SECURED = [pytest.param(name, op, id=name) for name, op in OPERATIONS.items() if not op.public and not op.billing]
BILLING = [pytest.param(name, op, id=name) for name, op in OPERATIONS.items() if op.billing]
CUSTOMER_ONLY = [pytest.param(name, op, id=name) for name, op in OPERATIONS.items() if op.customer_only]
TE_ADMIN = [pytest.param(name, op, id=name) for name, op in OPERATIONS.items() if op.te_admin]
OBJECTS = [pytest.param(name, op, id=name) for name, op in OPERATIONS.items() if op.object]
PARTNER_ONLY = [pytest.param(name, op, id=name) for name, op in OPERATIONS.items()
                if not op.public and not op.customer_token and not op.customer_only and not op.billing]
WITH_PERMS = [pytest.param(name, op, perm, id=f"{name}-{perm}") for name, op in OPERATIONS.items()
              for perm in (USE_API, *op.perms) if not op.public and not op.billing]


@pytest.fixture
def world(db):
    return World()


@pytest.mark.parametrize("name, op", SECURED)
def test_anonymous_callers_get_401(world, name, op):
    response = send(Client(), op, world, world.customer, {})
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("name, op", OBJECTS)
def test_another_partners_object_is_404(world, name, op):
    response = send(Client(), op, world, world.foreign, world.token(world.admin))
    assert response.status_code == 404, response.content


def token_for(world, op, member, role="te_admin"):
    return world.customer_token(role, member=member) if op.customer_only else world.token(member)


@pytest.mark.parametrize("name, op, perm", WITH_PERMS)
def test_a_token_lacking_one_required_permission_gets_403(world, name, op, perm):
    member = world.member_with([p for p in ALL_PORTAL_PERMISSIONS if p != perm])
    response = send(Client(), op, world, world.customer, token_for(world, op, member))
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("name, op", SECURED)
def test_a_token_holding_exactly_the_required_permissions_is_let_through(world, name, op):
    member = world.member_with([USE_API, *op.perms])
    response = send(Client(), op, world, world.customer, token_for(world, op, member))
    assert response.status_code not in (401, 403), response.content


@pytest.mark.parametrize("name, op", PARTNER_ONLY)
def test_a_readonly_customer_token_gets_403_on_partner_operations(world, name, op):
    response = send(Client(), op, world, world.customer, world.customer_token("readonly"))
    assert response.status_code == 403 and response.json()["code"] in ("partner_token_required", "readonly_token")


@pytest.mark.parametrize("name, op", CUSTOMER_ONLY)
def test_a_partner_token_gets_403_on_customer_token_operations(world, name, op):
    response = send(Client(), op, world, world.customer, world.token(world.admin))
    assert response.status_code == 403 and response.json()["code"] == "customer_token_required"


@pytest.mark.parametrize("name, op", TE_ADMIN)
def test_a_readonly_customer_token_cannot_act_as_the_customer(world, name, op):
    response = send(Client(), op, world, world.customer, world.customer_token("readonly"))
    assert response.status_code == 403 and response.json()["code"] == "readonly_token"


@pytest.mark.parametrize("name, op", BILLING)
def test_billing_operations_refuse_anonymous_callers_and_every_token(world, settings, name, op):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "BILLING_API_KEY": "billing-secret-key"}
    assert send(Client(), op, world, world.customer, {}).status_code == 401
    response = send(Client(), op, world, world.customer, world.token(world.admin))
    assert response.status_code == 403 and response.json()["code"] == "billing_key_required"
    response = send(Client(), op, world, world.customer, world.customer_token("te_admin"))
    assert response.status_code == 403 and response.json()["code"] == "billing_key_required"
    response = send(Client(), op, world, world.customer, {"HTTP_AUTHORIZATION": "Bearer billing-secret-key"})
    assert response.status_code in (200, 201), response.content
