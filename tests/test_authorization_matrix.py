"""Authorization proven on every URL (SPEC R16, R20; issue 6).

Every URL pattern of the project (admin/ and i18n/ aside) has one entry in MATRIX, or
``test_every_url_pattern_is_in_the_matrix`` fails. An entry declares who the URL is for and
what it needs; the tests derive from it what every kind of visitor gets:

- portal: anonymous → sign-in page; a customer → "no access" (403); a member of another
  partner → 404 on URLs of an object; a member lacking any one of the required permissions →
  403; a member holding exactly them → success (2xx/3xx); a customer manager or supervisor
  reaches only the customers they manage (404 on another one, absent from lists);
- Account Center: anonymous → customer sign-in; a member → "no access"; another customer →
  404 on URLs of their objects; the customer → success;
- API: anonymous and a browser session → 401; a token lacking a permission → 403; a token with
  them → success;
- public: anyone gets an answer, never a server error;
- a POST-only URL answers GET with 405 and refuses a POST without a CSRF token;
- every POST: the permitted one writes exactly the operation records its entry names
  (``records``, by event), a refused one (anonymous, a customer or member where they do not
  belong, another partner's member, a member or token lacking a permission) writes none.

Adding a URL is one line here: its audience, methods, permissions (per method if they differ),
how to build its arguments from the World for a given customer, and whether customer-manager
scoping applies to it (OBJECT: its object belongs to that customer; LIST: it lists customers),
and for a POST the records it writes.
"""
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from api import services as api_services
from audit.models import OperationRecord
from customers.controls import batches
from customers.controls import services as controls_services
from customers.funds import services as funds_services
from customers.invitations import services as invitations
from customers.models import Association, Voucher
from organization.models import Role
from organization.permissions import ALL_PORTAL_PERMISSIONS, BUILTIN_ROLE_PERMISSIONS
from partnercenter import factories as f

PORTAL, ACCOUNT_CENTER, API, PUBLIC = "portal", "account center", "api", "public"
OBJECT, LIST = "object", "list"
# API v1's operations have their own data-driven matrix: tests/test_api_authorization.py.
EXCLUDED_PREFIXES = ("admin/", "i18n/", "static/", "media/", "api/v1/")

CUSTOMER_MANAGER_PERMS = set(BUILTIN_ROLE_PERMISSIONS["customer_manager"])
BACKEND = "organization.backends.RolePermissionBackend"


class World:
    """What every entry is built from. Own partner "acme": its administrator, a supervisor and
    the customer manager they supervise, a read-only member, and two reseller customers, one
    managed by the manager ("kept") and one not ("hidden"). Another partner "globex" with its
    administrator and customer. Objects for URL arguments are made on first use."""

    def __init__(self):
        self.partner = f.PartnerFactory(
            account_name="acme", name="Acme Cloud", balance=Decimal("1000.00"), voucher_quota=Decimal("1000.00")
        )
        self.other_partner = f.PartnerFactory(account_name="globex", name="Globex")
        self.admin = f.MemberFactory(partner=self.partner, member_name="admin", is_partner_admin=True)
        self.outsider = f.MemberFactory(partner=self.other_partner, member_name="admin")
        self.supervisor = f.MemberFactory(
            partner=self.partner, member_name="supervisor", roles=["customer_manager_supervisor"]
        )
        self.manager = f.MemberFactory(
            partner=self.partner, member_name="manager", roles=["customer_manager"], supervisor=self.supervisor
        )
        self.target = f.MemberFactory(partner=self.partner, member_name="target", roles=["read_only"])
        self.kept = self._customer(self.partner, "kept-cust", "Kept Customer", manager=self.manager)
        self.hidden = self._customer(self.partner, "hidden-cust", "Hidden Customer", manager=None)
        self.foreign = self._customer(self.other_partner, "foreign-cust", "Foreign Customer", manager=None)
        self._made: dict[tuple, Any] = {}
        self._count = 0

    @staticmethod
    def _customer(partner, account_name, name, *, manager):
        customer = f.CustomerWithUserFactory(account_name=account_name, name=name, manager=manager)
        f.AssociationFactory(partner=partner, customer=customer, type=Association.Type.RESELLER)
        return customer

    def _once(self, key, make):
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    # personas ---------------------------------------------------------------------------
    def member_with(self, perms) -> Any:
        """A member of the own partner holding exactly ``perms``."""
        self._count += 1
        role = Role.objects.create(partner=self.partner, name=f"Exactly {self._count}")
        role.permissions.set(
            [Permission.objects.get(content_type__app_label=p.split(".")[0], codename=p.split(".")[1]) for p in perms]
        )
        return f.MemberFactory(partner=self.partner, member_name=f"persona{self._count}", roles=[role])

    def member_without(self, perm) -> Any:
        """A member holding every portal permission but ``perm``."""
        return self.member_with([p for p in ALL_PORTAL_PERMISSIONS if p != perm])

    # objects for URL arguments -------------------------------------------------------------
    def association(self, customer) -> Association:
        return Association.objects.get(customer=customer, status=Association.Status.ACTIVE)

    def partner_request(self, customer):
        """A pending unbind the partner asked for."""
        return self._once(("unbind", customer.pk), lambda: f.AssociationRequestFactory(
            association=self.association(customer), kind="unbind", requested_by=self.admin,
        ))

    def dissociation(self, customer):
        """A pending dissociation the customer asked for."""
        return self._once(("dissociation", customer.pk), lambda: f.AssociationRequestFactory(
            association=self.association(customer), kind="dissociation", requested_by=customer.user,
        ))

    def voucher(self, customer) -> Voucher:
        return self._once(("voucher", customer.pk), lambda: Voucher.objects.create(
            partner=self.partner, customer=customer, amount=Decimal("5.00"),
            expires_at=timezone.now() + timedelta(days=30), issued_by=self.admin,
        ))

    def record(self, customer):
        return self._once(("record", customer.pk), lambda: f.OperationRecordFactory(
            partner=self.partner, customer=customer, association=self.association(customer),
        ))

    def project(self, customer):
        return self._once(("project", customer.pk), lambda: f.ProjectRegistrationFactory(
            partner=self.partner, customer=customer,
        ))

    def invitation(self):
        return self._once(("invitation",), lambda: f.InvitationFactory(partner=self.partner, created_by=self.admin))

    def plain_member(self):
        """A member holding no role, whom any member manager may manage."""
        return self._once(("plain",), lambda: f.MemberFactory(partner=self.partner, member_name="plain", roles=[]))

    def disabled_member(self):
        return self._once(("disabled",), lambda: f.MemberFactory(
            partner=self.partner, member_name="disabled", roles=[], is_active=False,
        ))

    def allocated(self, customer):
        """Funds allocated to ``customer`` so that there is something to recover."""
        return self._once(("allocated", customer.pk), lambda: funds_services.funds_allocate(
            actor=self.admin, association=self.association(customer), amount=Decimal("5.00"),
        ))

    def frozen(self, customer):
        """A partner freeze of ``customer`` by the own administrator, to be lifted."""
        return self._once(("frozen", customer.pk), lambda: controls_services.customer_freeze(
            actor=self.admin, association=self.association(customer), reason="matrix",
        ))

    def batch(self, customer, *, cancelled: bool = False):
        """A queued batch of the own administrator on ``customer`` (cancelled: to resume)."""
        def make():
            made = batches.batch_create(actor=self.admin, action="budget", customer_ids=[customer.pk],
                                        amount=Decimal("10.00"))
            return batches.batch_cancel(actor=self.admin, batch=made) if cancelled else made
        return self._once(("batch", customer.pk, cancelled), make)

    def custom_role(self) -> Role:
        return self._once(("role",), lambda: Role.objects.create(partner=self.partner, name="Spare role"))

    def endpoint(self, *, active=True):
        """A webhook endpoint of the own partner (another partner's member gets a 404)."""
        from webhooks.models import Endpoint

        return self._once(("endpoint", active), lambda: Endpoint.objects.create(
            partner=self.partner, url="http://127.0.0.1:9/hooks", secret="whsec_" + "A" * 44, is_active=active))

    def delivery(self):
        """A failed delivery of the own partner's endpoint, which may be redelivered."""
        from webhooks.models import Delivery

        return self._once(("delivery",), lambda: Delivery.objects.create(
            endpoint=self.endpoint(), event_id="evt_matrix", event="association.created", body="{}",
            status="failed", due_at=None))

    def api_key(self):
        return self._once(("api_key",), lambda: api_services.api_key_create(actor=self.admin, name="CI")[0])


@dataclass(frozen=True)
class Entry:
    audience: str
    perms: tuple[str, ...] | dict[str, tuple[str, ...]] = ()
    methods: tuple[str, ...] = ("GET",)
    kwargs: Callable[[World, Any], dict] | None = None
    body: Callable[[World, Any], dict] | None = None
    scope: str | None = None
    # LIST scope: what puts a customer on the list (beyond being associated).
    lists: Callable[[World, Any], Any] | None = None
    # Account Center object URLs whose object is the customer's own (another customer → 404).
    owned: bool = True
    json: bool = False
    expect: tuple[int, ...] = field(default=())
    # The events of the operation records a permitted POST writes, in any order.
    records: tuple[str, ...] = ()

    def perms_for(self, method: str) -> tuple[str, ...]:
        return self.perms.get(method, ()) if isinstance(self.perms, dict) else self.perms

    @property
    def post_only(self) -> bool:
        return self.methods == ("POST",)


def customer_pk(w, c):
    return {"pk": c.pk}


def member_pk(w, c):
    return {"pk": w.target.pk}


def role_pk(w, c):
    return {"pk": w.custom_role().pk}


def funds(w, c):
    return {"amount": "1.00", "token": uuid.uuid4().hex, "reason": "matrix"}


def recover(w, c):
    w.allocated(c)
    return funds(w, c)


def request_reason(w, c):
    return {"consent": "on", "reason": "matrix"}


def freeze_reason(w, c):
    return {"reason": "matrix"}


def unfreeze_reason(w, c):
    w.frozen(c)
    return {"reason": "matrix"}


def invitation_token(w, c):
    return {"token": invitations.invitation_token(w.invitation())}


def public_link_token(w, c):
    return {"token": invitations.public_link_token(w.partner, Association.Type.REFERRAL)}


VIEW = ("customers.view_customer",)
FREEZE = ("customers.freeze_customers",)
BUDGETS = ("customers.manage_budgets",)
MEMBERS = ("organization.manage_members",)
ROLES = ("organization.manage_roles",)
INVITE = ("customers.invite_customers",)
RECORDS = ("audit.view_operationrecord",)
USE_API = ("organization.use_api",)
HOOKS = ("webhooks.manage_webhooks",)
GET_POST = ("GET", "POST")
POST = ("POST",)

MATRIX: dict[str, Entry] = {
    # public ------------------------------------------------------------------------------
    "home": Entry(PUBLIC),
    "login": Entry(PUBLIC, methods=GET_POST),
    "customer_login": Entry(PUBLIC, methods=GET_POST),
    "logout": Entry(PUBLIC, methods=POST),
    "account_center:invitation": Entry(PUBLIC, kwargs=invitation_token),
    "account_center:invitation_sign_up": Entry(PUBLIC, methods=GET_POST, kwargs=invitation_token),
    "account_center:public_link": Entry(PUBLIC, kwargs=public_link_token),
    "account_center:public_link_sign_up": Entry(PUBLIC, methods=GET_POST, kwargs=public_link_token),
    # The addresses before API v1 redirect there (308, method and body kept).
    "api:tokens": Entry(PUBLIC, methods=GET_POST, json=True, expect=(308,)),
    "api:current_token": Entry(PUBLIC, expect=(308,)),
    "api:customer_tokens": Entry(PUBLIC, methods=GET_POST, json=True, expect=(308,)),
    "api:customers": Entry(PUBLIC, methods=GET_POST, json=True, expect=(308,)),
    "api:schema": Entry(PUBLIC, expect=(308,)),
    "api:docs": Entry(PUBLIC, expect=(308,)),
    "api:not_found": Entry(PUBLIC, expect=(404,)),
    # Sales › Customers --------------------------------------------------------------------
    "customers:list": Entry(PORTAL, VIEW, scope=LIST),
    "customers:detail": Entry(PORTAL, VIEW, kwargs=customer_pk, scope=OBJECT),
    "customers:export": Entry(PORTAL, (*VIEW, "customers.export_customers"), scope=LIST),
    "customers:funds_allocate": Entry(PORTAL, ("customers.allocate_funds",), kwargs=customer_pk, scope=OBJECT),
    "customers:funds_allocate_submit": Entry(
        PORTAL, ("customers.allocate_funds",), POST, kwargs=customer_pk, body=funds, scope=OBJECT,
        records=("funds.allocated",),
    ),
    "customers:funds_recover": Entry(PORTAL, ("customers.recover_funds",), kwargs=customer_pk, scope=OBJECT),
    "customers:funds_recover_submit": Entry(
        PORTAL, ("customers.recover_funds",), POST, kwargs=customer_pk, body=recover, scope=OBJECT,
        records=("funds.recovered",),
    ),
    "customers:voucher_issue": Entry(PORTAL, ("customers.issue_vouchers",), kwargs=customer_pk, scope=OBJECT),
    "customers:voucher_issue_submit": Entry(
        PORTAL, ("customers.issue_vouchers",), POST, kwargs=customer_pk, scope=OBJECT,
        body=lambda w, c: {**funds(w, c), "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat()},
        records=("voucher.issued",),
    ),
    "customers:voucher_list": Entry(PORTAL, VIEW, scope=LIST, lists=World.voucher),
    "customers:controls_freeze": Entry(PORTAL, FREEZE, kwargs=customer_pk, scope=OBJECT),
    "customers:controls_freeze_submit": Entry(
        PORTAL, FREEZE, POST, kwargs=customer_pk, body=freeze_reason, scope=OBJECT, records=("customer.frozen",),
    ),
    "customers:controls_unfreeze": Entry(PORTAL, FREEZE, kwargs=customer_pk, scope=OBJECT),
    "customers:controls_unfreeze_submit": Entry(
        PORTAL, FREEZE, POST, kwargs=customer_pk, body=unfreeze_reason, scope=OBJECT,
        records=("customer.unfrozen",),
    ),
    "customers:controls_budget": Entry(PORTAL, BUDGETS, kwargs=customer_pk, scope=OBJECT),
    "customers:controls_budget_submit": Entry(
        PORTAL, BUDGETS, POST, kwargs=customer_pk, body=lambda w, c: {"amount": "100.00", "reason": "matrix"},
        scope=OBJECT, records=("customer.budget_set",),
    ),
    "customers:batch": Entry(
        PORTAL, (*VIEW, *FREEZE), POST, records=("customer.frozen",),
        body=lambda w, c: {"action": "freeze", "customers": [c.pk], "reason": "matrix", "step": "apply"},
    ),
    "customers:batch_detail": Entry(PORTAL, VIEW, kwargs=lambda w, c: {"pk": w.batch(c).pk}),
    "customers:batch_csv": Entry(PORTAL, VIEW, kwargs=lambda w, c: {"pk": w.batch(c).pk}),
    "customers:batch_cancel": Entry(PORTAL, VIEW, POST, kwargs=lambda w, c: {"pk": w.batch(c).pk}),
    "customers:batch_resume": Entry(PORTAL, VIEW, POST, kwargs=lambda w, c: {"pk": w.batch(c, cancelled=True).pk}),
    "customers:controls_settings": Entry(
        PORTAL, ("organization.manage_settings",), GET_POST, records=("organization.controls_updated",),
        body=lambda w, c: {"start_frozen_until_budget": "on"},
    ),
    "customers:voucher_recover": Entry(
        PORTAL, ("customers.issue_vouchers",), POST, kwargs=lambda w, c: {"pk": w.voucher(c).pk}, scope=OBJECT,
        records=("voucher.recovered",),
    ),
    "customers:invitation_list": Entry(PORTAL, INVITE),
    "customers:invitation_create": Entry(
        PORTAL, INVITE, GET_POST, records=("invitation.sent",),
        body=lambda w, c: {"email": "someone@new.example.com", "type": "referral", "language": "en"},
    ),
    "customers:invitation_resend": Entry(
        PORTAL, INVITE, GET_POST, kwargs=lambda w, c: {"pk": w.invitation().pk}, records=("invitation.resent",),
        body=lambda w, c: {"email": "again@new.example.com", "language": "en"},
    ),
    "customers:invitation_revoke": Entry(
        PORTAL, INVITE, GET_POST, kwargs=lambda w, c: {"pk": w.invitation().pk}, records=("invitation.revoked",)
    ),
    "customers:public_link": Entry(PORTAL, INVITE),
    "customers:project_list": Entry(PORTAL, INVITE, scope=LIST, lists=World.project),
    "customers:project_create": Entry(PORTAL, INVITE, GET_POST),
    "customers:switch_check": Entry(PORTAL, ("customers.switch_association",), kwargs=customer_pk, scope=OBJECT),
    "customers:switch_notes": Entry(PORTAL, ("customers.switch_association",), kwargs=customer_pk, scope=OBJECT),
    "customers:switch_submit": Entry(
        PORTAL, ("customers.switch_association",), POST, kwargs=customer_pk, body=request_reason, scope=OBJECT,
        records=("request.submitted",),
    ),
    "customers:unbind_check": Entry(PORTAL, ("customers.unbind_association",), kwargs=customer_pk, scope=OBJECT),
    "customers:unbind_notes": Entry(PORTAL, ("customers.unbind_association",), kwargs=customer_pk, scope=OBJECT),
    "customers:unbind_submit": Entry(
        PORTAL, ("customers.unbind_association",), POST, kwargs=customer_pk, body=request_reason, scope=OBJECT,
        records=("request.submitted",),
    ),
    "customers:request_inbox": Entry(
        PORTAL, ("customers.handle_dissociation",), scope=LIST, lists=World.dissociation
    ),
    "customers:request_detail": Entry(
        PORTAL, VIEW, kwargs=lambda w, c: {"request_pk": w.partner_request(c).pk}, scope=OBJECT
    ),
    "customers:request_cancel": Entry(
        PORTAL, (*VIEW, "customers.unbind_association"), POST, scope=OBJECT,
        kwargs=lambda w, c: {"request_pk": w.partner_request(c).pk}, body=lambda w, c: {"reason": "matrix"},
        records=("request.cancelled",),
    ),
    "customers:request_approve": Entry(
        PORTAL, ("customers.handle_dissociation",), POST, scope=OBJECT,
        kwargs=lambda w, c: {"request_pk": w.dissociation(c).pk}, body=request_reason,
        records=("association.ended", "customer.manager_assigned", "request.approved"),
    ),
    "customers:request_reject": Entry(
        PORTAL, ("customers.handle_dissociation",), POST, scope=OBJECT,
        kwargs=lambda w, c: {"request_pk": w.dissociation(c).pk}, body=lambda w, c: {"reason": "matrix"},
        records=("request.rejected",),
    ),
    # Organization ------------------------------------------------------------------------
    "organization:members": Entry(PORTAL, MEMBERS),
    "organization:member_create": Entry(PORTAL, MEMBERS, GET_POST),
    "organization:member_edit": Entry(PORTAL, MEMBERS, GET_POST, kwargs=member_pk),
    "organization:member_disable": Entry(
        PORTAL, MEMBERS, POST, kwargs=lambda w, c: {"pk": w.plain_member().pk}, records=("member.disabled",)
    ),
    "organization:member_enable": Entry(
        PORTAL, MEMBERS, POST, kwargs=lambda w, c: {"pk": w.disabled_member().pk}, records=("member.enabled",)
    ),
    "organization:member_reset_password": Entry(PORTAL, MEMBERS, GET_POST, kwargs=member_pk),
    "organization:roles": Entry(PORTAL, ROLES),
    "organization:role_create": Entry(
        PORTAL, ROLES, GET_POST, records=("role.created",),
        body=lambda w, c: {"name": "Matrix role", "permissions": ["organization.manage_roles"]},
    ),
    "organization:role_edit": Entry(
        PORTAL, ROLES, GET_POST, kwargs=role_pk, records=("role.updated",),
        body=lambda w, c: {"name": "Spare role", "permissions": ["organization.manage_roles"]},
    ),
    "organization:role_delete": Entry(PORTAL, ROLES, POST, kwargs=role_pk, records=("role.deleted",)),
    "organization:settings": Entry(
        PORTAL, ("organization.manage_settings",), GET_POST, records=("organization.settings_updated",),
        body=lambda w, c: {"operation_protection": "on"},
    ),
    "organization:profile": Entry(PORTAL, (), GET_POST),
    "organization:password_change": Entry(PORTAL, (), GET_POST),
    "organization:customer_manager_assign": Entry(
        PORTAL, (*VIEW, *MEMBERS), POST, body=lambda w, c: {"customers": [c.pk], "manager": ""},
        records=("customer.manager_assigned",),
    ),
    # Records ------------------------------------------------------------------------------
    "audit:list": Entry(PORTAL, RECORDS, scope=LIST, lists=World.record),
    "audit:export": Entry(PORTAL, (*RECORDS, "audit.export_records"), scope=LIST, lists=World.record),
    "audit:detail": Entry(PORTAL, RECORDS, kwargs=lambda w, c: {"pk": w.record(c).pk}, scope=OBJECT),
    # Partner info › API keys ----------------------------------------------------------------
    "api_keys:list": Entry(PORTAL, USE_API),
    "api_keys:create": Entry(PORTAL, USE_API, POST, body=lambda w, c: {"name": "matrix"}, records=("api.key_created",)),
    "api_keys:revoke": Entry(
        PORTAL, USE_API, POST, kwargs=lambda w, c: {"pk": w.api_key().pk}, records=("api.key_revoked",)
    ),
    # Organization › Webhooks ------------------------------------------------------------------
    "webhooks:list": Entry(PORTAL, HOOKS),
    "webhooks:create": Entry(PORTAL, HOOKS, GET_POST, body=lambda w, c: {"url": "http://127.0.0.1:9/new",
                                                                         "all_events": "on"},
                             records=("webhook.created",)),
    "webhooks:detail": Entry(PORTAL, HOOKS, kwargs=lambda w, c: {"pk": w.endpoint().pk}),
    "webhooks:edit": Entry(PORTAL, HOOKS, GET_POST, kwargs=lambda w, c: {"pk": w.endpoint().pk},
                           body=lambda w, c: {"url": "http://127.0.0.1:9/edited", "all_events": "on"},
                           records=("webhook.updated",)),
    "webhooks:disable": Entry(PORTAL, HOOKS, POST, kwargs=lambda w, c: {"pk": w.endpoint().pk},
                              records=("webhook.disabled",)),
    "webhooks:enable": Entry(PORTAL, HOOKS, POST, kwargs=lambda w, c: {"pk": w.endpoint(active=False).pk},
                             records=("webhook.enabled",)),
    "webhooks:test": Entry(PORTAL, HOOKS, POST, kwargs=lambda w, c: {"pk": w.endpoint().pk}),
    "webhooks:rotate_secret": Entry(PORTAL, HOOKS, POST, kwargs=lambda w, c: {"pk": w.endpoint().pk},
                                    records=("webhook.secret_rotated",)),
    "webhooks:delete": Entry(PORTAL, HOOKS, POST, kwargs=lambda w, c: {"pk": w.endpoint().pk},
                             records=("webhook.deleted",)),
    "webhooks:redeliver": Entry(PORTAL, HOOKS, POST, kwargs=lambda w, c: {"pk": w.delivery().pk}),
    # Account Center -------------------------------------------------------------------------
    "account_center:home": Entry(ACCOUNT_CENTER),
    "account_center:records": Entry(ACCOUNT_CENTER),
    "account_center:dissociate": Entry(ACCOUNT_CENTER),
    "account_center:dissociate_submit": Entry(
        ACCOUNT_CENTER, methods=POST, body=request_reason, records=("request.submitted",)
    ),
    "account_center:request_handle": Entry(
        ACCOUNT_CENTER, kwargs=lambda w, c: {"pk": w.partner_request(c).pk}
    ),
    "account_center:request_agree": Entry(
        ACCOUNT_CENTER, methods=POST, kwargs=lambda w, c: {"pk": w.partner_request(c).pk}, body=request_reason,
        records=("association.ended", "customer.manager_assigned", "request.confirmed"),
    ),
    "account_center:request_reject": Entry(
        ACCOUNT_CENTER, methods=POST, kwargs=lambda w, c: {"pk": w.partner_request(c).pk},
        body=lambda w, c: {"reason": "matrix"}, records=("request.rejected",),
    ),
    "account_center:request_cancel": Entry(
        ACCOUNT_CENTER, methods=POST, kwargs=lambda w, c: {"pk": w.dissociation(c).pk},
        body=lambda w, c: {"reason": "matrix"}, records=("request.cancelled",),
    ),
    "account_center:invitation_accept": Entry(ACCOUNT_CENTER, methods=POST, kwargs=invitation_token, owned=False),
    "account_center:invitation_decline": Entry(
        ACCOUNT_CENTER, methods=POST, kwargs=invitation_token, owned=False, records=("invitation.declined",)
    ),
    "account_center:public_link_accept": Entry(
        ACCOUNT_CENTER, methods=POST, kwargs=public_link_token, owned=False
    ),
}


# Enumerating the project's URLs ----------------------------------------------------------------


def named_patterns() -> list[tuple[str, URLPattern]]:
    """Every URL pattern with its full name ("namespace:name"); an unnamed one by its route."""

    def walk(resolver, prefix, namespace):
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if route.startswith(EXCLUDED_PREFIXES):
                continue
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern, route, inner)
            elif pattern.name is None:
                yield f"<unnamed: {route}>", pattern
            else:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern

    return list(walk(get_resolver(), "", None))


def project_url_names() -> list[str]:
    return [name for name, _pattern in named_patterns()]


def test_every_url_pattern_is_in_the_matrix():
    missing = sorted(set(project_url_names()) - set(MATRIX))
    assert missing == [], f"Add these URL patterns to MATRIX in {__name__}: {missing}"


def test_the_matrix_names_only_urls_that_exist():
    assert sorted(set(MATRIX) - set(project_url_names())) == []


def test_the_matrix_agrees_with_the_views_permission_decorators():
    """A portal view's decorator names no permission its entry leaves out, so a decorator
    changed without the matrix is noticed."""
    patterns = dict(named_patterns())
    disagreeing = []
    for name, entry in MATRIX.items():
        if entry.audience != PORTAL:
            continue
        declared = set().union(*(entry.perms_for(m) for m in entry.methods))
        required = set(getattr(patterns[name].callback, "required_permissions", ()))
        if not required <= declared:
            disagreeing.append((name, sorted(required), sorted(declared)))
    assert disagreeing == []


# Running requests ---------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    return World()


def url_of(name, entry, w, customer):
    return reverse(name, kwargs=entry.kwargs(w, customer) if entry.kwargs else None)


def send(client, method, name, entry, w, customer, **extra):
    return send_recorded(client, method, name, entry, w, customer, **extra)[0]


def send_recorded(client, method, name, entry, w, customer, **extra):
    """The response, and the events of the operation records the request wrote (sorted). What
    the URL's arguments and body need is made before counting."""
    url = url_of(name, entry, w, customer)
    data = entry.body(w, customer) if entry.body and method == "POST" else {}
    newest = OperationRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0
    if method == "GET":
        response = client.get(url, **extra)
    elif entry.json:
        response = client.post(url, data=json.dumps(data), content_type="application/json", **extra)
    else:
        response = client.post(url, data, **extra)
    return response, sorted(OperationRecord.objects.filter(id__gt=newest).values_list("event", flat=True))


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


def body_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def succeeded(response) -> bool:
    return 200 <= response.status_code < 400


def templates_of(response) -> list[str]:
    return [t.name for t in response.templates]


def entries(audience, *, only=lambda e: True):
    return [pytest.param(n, e, id=n) for n, e in MATRIX.items() if e.audience == audience and only(e)]


def cases(audience, *, only=lambda e: True):
    """(name, entry, method) for every method of the matching entries."""
    return [
        pytest.param(n, e, m, id=f"{n}-{m}")
        for n, e in MATRIX.items()
        if e.audience == audience and only(e)
        for m in e.methods
    ]


# Partner portal ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, entry, method", cases(PORTAL))
def test_portal_urls_send_anonymous_visitors_to_sign_in(world, name, entry, method):
    response = send(Client(), method, name, entry, world, world.kept)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("name, entry, method", cases(PORTAL))
def test_portal_urls_show_customers_the_no_access_page(world, name, entry, method):
    response = send(signed_in(world.kept.user), method, name, entry, world, world.kept)
    assert response.status_code == 403
    assert "no_access.html" in templates_of(response)


@pytest.mark.parametrize("name, entry, method", cases(PORTAL, only=lambda e: e.kwargs is not None))
def test_portal_object_urls_are_404_for_another_partners_member(world, name, entry, method):
    response = send(signed_in(world.outsider), method, name, entry, world, world.kept)
    assert response.status_code == 404


@pytest.mark.parametrize("name, entry, method", cases(PORTAL, only=lambda e: bool(e.perms)))
def test_portal_urls_refuse_a_member_lacking_any_required_permission(world, name, entry, method):
    for perm in entry.perms_for(method):
        response = send(signed_in(world.member_without(perm)), method, name, entry, world, world.kept)
        assert response.status_code == 403, perm


@pytest.mark.parametrize("name, entry, method", cases(PORTAL))
def test_portal_urls_work_for_a_member_holding_exactly_the_required_permissions(world, name, entry, method):
    member = world.member_with(entry.perms_for(method))
    response = send(signed_in(member), method, name, entry, world, world.kept)
    assert succeeded(response), response.status_code


@pytest.mark.parametrize("persona", ["manager", "supervisor"])
@pytest.mark.parametrize("name, entry, method", cases(PORTAL, only=lambda e: e.scope == OBJECT))
def test_customer_managers_reach_only_the_customers_they_manage(world, name, entry, method, persona):
    user = getattr(world, persona)
    permitted = set(entry.perms_for(method)) <= CUSTOMER_MANAGER_PERMS
    hidden = send(signed_in(user), method, name, entry, world, world.hidden)
    assert hidden.status_code == (404 if permitted else 403)
    kept = send(signed_in(user), method, name, entry, world, world.kept)
    assert succeeded(kept) if permitted else kept.status_code == 403


@pytest.mark.parametrize("persona", ["manager", "supervisor"])
@pytest.mark.parametrize("name, entry", entries(PORTAL, only=lambda e: e.scope == LIST))
def test_customer_managers_see_only_the_customers_they_manage_in_lists(world, name, entry, persona):
    if entry.lists:
        for customer in (world.kept, world.hidden):
            entry.lists(world, customer)
    response = send(signed_in(getattr(world, persona)), "GET", name, entry, world, world.kept)
    if not set(entry.perms_for("GET")) <= CUSTOMER_MANAGER_PERMS:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    shown = body_of(response)
    assert world.kept.account_name in shown or world.kept.name in shown
    assert world.hidden.account_name not in shown and world.hidden.name not in shown


def test_the_list_scoping_test_sees_both_customers_without_scope(world):
    """The scoping tests above could pass by showing nothing; an unscoped member sees both."""
    for name, entry in MATRIX.items():
        if entry.scope != LIST:
            continue
        if entry.lists:
            for customer in (world.kept, world.hidden):
                entry.lists(world, customer)
        shown = body_of(send(signed_in(world.admin), "GET", name, entry, world, world.kept))
        for customer in (world.kept, world.hidden):
            assert customer.account_name in shown or customer.name in shown, (name, customer)


# Account Center -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, entry, method", cases(ACCOUNT_CENTER))
def test_account_center_urls_send_anonymous_visitors_to_the_customer_sign_in(world, name, entry, method):
    response = send(Client(), method, name, entry, world, world.kept)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("customer_login") + "?next=")


@pytest.mark.parametrize("name, entry, method", cases(ACCOUNT_CENTER))
def test_account_center_urls_show_members_the_no_access_page(world, name, entry, method):
    response = send(signed_in(world.admin), method, name, entry, world, world.kept)
    assert response.status_code == 403
    assert "no_access.html" in templates_of(response)


@pytest.mark.parametrize(
    "name, entry, method", cases(ACCOUNT_CENTER, only=lambda e: e.kwargs is not None and e.owned)
)
def test_account_center_object_urls_are_404_for_another_customer(world, name, entry, method):
    response = send(signed_in(world.foreign.user), method, name, entry, world, world.kept)
    assert response.status_code == 404


@pytest.mark.parametrize("name, entry, method", cases(ACCOUNT_CENTER))
def test_account_center_urls_work_for_the_customer(world, name, entry, method):
    response = send(signed_in(world.kept.user), method, name, entry, world, world.kept)
    assert succeeded(response), response.status_code


# API ------------------------------------------------------------------------------------------------


def bearer(member) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {api_services.partner_token_create(member=member)[1]}"}


@pytest.mark.parametrize("name, entry, method", cases(API))
def test_api_urls_answer_anonymous_callers_401(world, name, entry, method):
    assert send(Client(), method, name, entry, world, world.kept).status_code == 401


@pytest.mark.parametrize("name, entry, method", cases(API))
def test_api_urls_ignore_a_browser_session(world, name, entry, method):
    assert send(signed_in(world.admin), method, name, entry, world, world.kept).status_code == 401


@pytest.mark.parametrize("name, entry, method", cases(API))
def test_api_urls_refuse_a_token_lacking_any_required_permission(world, name, entry, method):
    for perm in entry.perms_for(method):
        headers = bearer(world.member_without(perm))
        assert send(Client(), method, name, entry, world, world.kept, **headers).status_code == 403, perm


@pytest.mark.parametrize("name, entry, method", cases(API))
def test_api_urls_work_with_a_token_holding_exactly_the_required_permissions(world, name, entry, method):
    headers = bearer(world.member_with(entry.perms_for(method)))
    response = send(Client(), method, name, entry, world, world.kept, **headers)
    assert succeeded(response), response.content


# Public URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, entry, method", cases(PUBLIC))
def test_public_urls_answer_anyone(world, name, entry, method):
    response = send(Client(), method, name, entry, world, world.kept)
    if entry.expect:
        assert response.status_code in entry.expect
    else:
        assert succeeded(response), response.status_code


# Every audience ------------------------------------------------------------------------------------


ALL = [pytest.param(n, e, id=n) for n, e in MATRIX.items()]
POST_ONLY = [pytest.param(n, e, id=n) for n, e in MATRIX.items() if e.post_only]
FORM_POSTS = [pytest.param(n, e, id=n) for n, e in MATRIX.items() if "POST" in e.methods and not e.json]


@pytest.mark.parametrize("name, entry", POST_ONLY)
def test_post_only_urls_answer_get_with_405(world, name, entry):
    user = {PORTAL: world.admin, ACCOUNT_CENTER: world.kept.user}.get(entry.audience)
    client = signed_in(user) if user else Client()
    assert send(client, "GET", name, entry, world, world.kept).status_code == 405


@pytest.mark.parametrize("name, entry", FORM_POSTS)
def test_state_changing_posts_need_a_csrf_token(world, name, entry):
    user = {PORTAL: world.admin, ACCOUNT_CENTER: world.kept.user}.get(entry.audience)
    client = Client(enforce_csrf_checks=True)
    if user:
        client.force_login(user, backend=BACKEND)
    response = send(client, "POST", name, entry, world, world.kept)
    assert response.status_code == 403
    assert "no_access.html" not in templates_of(response)


# Every request proves its records ---------------------------------------------------------------


def permitted(w, entry, method) -> tuple[Client, dict]:
    """A client (and headers) of a visitor the entry lets through with ``method``."""
    if entry.audience == PORTAL:
        return signed_in(w.member_with(entry.perms_for(method))), {}
    if entry.audience == ACCOUNT_CENTER:
        return signed_in(w.kept.user), {}
    if entry.audience == API:
        return Client(), bearer(w.member_with(entry.perms_for(method)))
    return Client(), {}


def refused_visitors(w, entry, method) -> list[tuple[str, Client, dict, Any]]:
    """(who, client, headers, customer) of every visitor the entry refuses with ``method``."""
    anonymous = [("anonymous", Client(), {}, w.kept)]
    if entry.audience == PORTAL:
        visitors = [*anonymous, ("customer", signed_in(w.kept.user), {}, w.kept)]
        if entry.kwargs is not None:
            visitors.append(("another partner's member", signed_in(w.outsider), {}, w.kept))
        visitors += [(f"without {p}", signed_in(w.member_without(p)), {}, w.kept) for p in entry.perms_for(method)]
        if entry.scope == OBJECT:
            visitors.append(("a manager, on a customer of another", signed_in(w.manager), {}, w.hidden))
        return visitors
    if entry.audience == ACCOUNT_CENTER:
        visitors = [*anonymous, ("member", signed_in(w.admin), {}, w.kept)]
        if entry.kwargs is not None and entry.owned:
            visitors.append(("another customer", signed_in(w.foreign.user), {}, w.kept))
        return visitors
    if entry.audience == API:
        return [*anonymous, ("browser session", signed_in(w.admin), {}, w.kept)] + [
            (f"without {p}", Client(), bearer(w.member_without(p)), w.kept) for p in entry.perms_for(method)
        ]
    return []


@pytest.mark.parametrize("name, entry, method", [
    pytest.param(n, e, m, id=f"{n}-{m}") for n, e in MATRIX.items() for m in e.methods
])
def test_a_permitted_request_writes_exactly_its_records(world, name, entry, method):
    client, headers = permitted(world, entry, method)
    response, events = send_recorded(client, method, name, entry, world, world.kept, **headers)
    if entry.expect:
        assert response.status_code in entry.expect
    else:
        assert succeeded(response), response.status_code
    assert events == (sorted(entry.records) if method == "POST" else [])


@pytest.mark.parametrize("name, entry", [pytest.param(n, e, id=n) for n, e in MATRIX.items() if "POST" in e.methods])
def test_a_refused_post_writes_no_record(world, name, entry):
    visitors = refused_visitors(world, entry, "POST")
    for who, client, headers, customer in visitors:
        response, events = send_recorded(client, "POST", name, entry, world, customer, **headers)
        assert response.status_code in (302, 401, 403, 404), (who, response.status_code)
        assert events == [], who
    # The same POST, permitted, still writes its records: the refusals above were of the visitor.
    if visitors and entry.records:
        client, headers = permitted(world, entry, "POST")
        assert send_recorded(client, "POST", name, entry, world, world.kept, **headers)[1] == sorted(entry.records)
