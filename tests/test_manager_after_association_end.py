"""A customer manager belongs to one partner's organization: when the association ends the
customer leaves without them, and no other partner ever sees them (issue 15, must fix 5)."""
import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from audit.events import Event
from audit.models import OperationRecord
from customers.models import Association, AssociationRequest, Customer
from customers.requests import services as services
from partnercenter import factories as f

Kind = AssociationRequest.Kind


@pytest.fixture
def managed(partner, customer, manager):
    manager.display_name = "Mark Manager"
    manager.save(update_fields=["display_name"])
    Customer.objects.filter(pk=customer.pk).update(manager=manager)
    return Association.objects.select_related("partner", "customer").get(customer=customer, status="active")


def manager_records(customer):
    return list(
        OperationRecord.objects.filter(event=Event.CUSTOMER_MANAGER_ASSIGNED, customer=customer).values_list(
            "before", "after"
        )
    )


def test_an_unbind_clears_the_manager_with_its_record(managed, admin_member, customer_user, manager):
    request = services.request_submit(actor=admin_member, association=managed, kind=Kind.UNBIND, reason="Moves on")
    services.request_confirm(actor=customer_user, association_request=request)
    assert Customer.objects.get(pk=managed.customer_id).manager_id is None
    assert manager_records(managed.customer) == [({"manager": manager.pk}, {"manager": None})]
    record = OperationRecord.objects.get(event=Event.CUSTOMER_MANAGER_ASSIGNED)
    assert (record.partner_id, record.association_id, record.actor_id) == (
        managed.partner_id, managed.pk, customer_user.pk
    )


def test_an_approved_dissociation_clears_the_manager(managed, admin_member, customer_user):
    request = services.request_submit_dissociation(actor=customer_user, association=managed, reason="Leaving")
    services.request_approve(actor=admin_member, association_request=request)
    assert Customer.objects.get(pk=managed.customer_id).manager_id is None
    assert len(manager_records(managed.customer)) == 1


def test_an_automatically_approved_dissociation_clears_the_manager(managed, customer_user):
    request = services.request_submit_dissociation(actor=customer_user, association=managed, reason="Leaving")
    AssociationRequest.objects.filter(pk=request.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    services.request_expire_due()
    assert Association.objects.get(pk=managed.pk).status == Association.Status.ENDED
    assert Customer.objects.get(pk=managed.customer_id).manager_id is None
    assert OperationRecord.objects.get(event=Event.CUSTOMER_MANAGER_ASSIGNED).actor_id is None


def test_a_switch_keeps_the_manager(managed, admin_member, customer_user, manager):
    request = services.request_submit(actor=admin_member, association=managed, kind=Kind.SWITCH, reason="Referral")
    services.request_confirm(actor=customer_user, association_request=request)
    assert Customer.objects.get(pk=managed.customer_id).manager_id == manager.pk


def end_leaving_the_manager(association):
    """An association ended the way it was before issue 15: the manager stays set."""
    Association.objects.filter(pk=association.pk).update(
        status=Association.Status.ENDED, ended_at=timezone.now(), end_reason=Association.EndReason.UNBIND
    )


def test_the_next_partner_never_sees_a_manager_left_over_from_the_last(
    as_user, managed, other_partner, other_member, settings
):
    end_leaving_the_manager(managed)
    f.AssociationFactory(partner=other_partner, customer=managed.customer)
    client = as_user(other_member)
    for body in (
        client.get(reverse("customers:list")).content,
        client.get(reverse("customers:detail", args=[managed.customer_id])).content,
        b"".join(client.get(reverse("customers:export")).streaming_content),
    ):
        assert b"cust-one" in body
        assert b"Mark Manager" not in body


def test_the_own_partners_manager_is_still_shown(as_user, managed, admin_member, manager):
    client = as_user(admin_member)
    shown = "Mark Manager"
    assert shown.encode() in client.get(reverse("customers:list")).content
    assert shown.encode() in client.get(reverse("customers:detail", args=[managed.customer_id])).content
    assert shown.encode() in b"".join(client.get(reverse("customers:export")).streaming_content)


def test_a_distributor_does_not_see_its_resellers_managers(as_user, db):
    distributor = f.DistributorFactory(account_name="dist")
    reseller = f.ResellerFactory(account_name="resl", distributor=distributor)
    reseller_manager = f.MemberFactory(
        partner=reseller, member_name="resl-m", display_name="Reseller Rita", roles=["customer_manager"]
    )
    customer = f.CustomerFactory(account_name="res-cust", manager=reseller_manager)
    f.AssociationFactory(partner=reseller, customer=customer)
    admin = f.MemberFactory(partner=distributor, member_name="admin", roles=["system_admin"])
    client = as_user(admin)
    body = client.get(reverse("customers:list"), {"tab": "resellers"}).content
    assert b"res-cust" in body and b"Reseller Rita" not in body
    assert b"Reseller Rita" not in client.get(reverse("customers:detail", args=[customer.pk])).content


def test_the_migration_clears_only_managers_of_another_partner(partner, other_partner, manager, db):
    migration = importlib.import_module("customers.migrations.0006_clear_stale_customer_managers")
    stale = f.CustomerFactory(account_name="stale", manager=manager)
    f.AssociationFactory(partner=other_partner, customer=stale)
    f.CustomerFactory(account_name="orphan", manager=manager)
    kept = f.CustomerFactory(account_name="kept", manager=manager)
    f.AssociationFactory(partner=partner, customer=kept)
    records = OperationRecord.objects.count()
    migration.clear_stale_managers(apps, None)
    managers = dict(Customer.objects.values_list("account_name", "manager_id"))
    assert (managers["stale"], managers["orphan"], managers["kept"]) == (None, None, manager.pk)
    assert OperationRecord.objects.count() == records
