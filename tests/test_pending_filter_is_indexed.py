"""The customer list's pending filter (issue 17): ``Association.has_pending_request`` is kept
by the database's triggers (customers migration 0010) whatever writes the requests, Django
never writes it back from a stale row, and the filter stays exact for requests past their
deadline."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Association, AssociationRequest
from partnercenter import factories as f
from tests.plans import explain

Status = AssociationRequest.Status


def flag(association) -> bool:
    return Association.objects.values_list("has_pending_request", flat=True).get(pk=association.pk)


def test_the_flag_follows_the_requests_of_the_association(customer):
    association = customer.associations.get()
    assert flag(association) is False
    first = f.AssociationRequestFactory(association=association, kind="switch")
    assert flag(association) is True
    second = f.AssociationRequestFactory(association=association, kind="unbind", status=Status.CANCELLED)
    assert flag(association) is True
    AssociationRequest.objects.filter(pk=first.pk).update(status=Status.EXPIRED)  # bulk, no save()
    assert flag(association) is False
    second.status = Status.PENDING
    second.save()
    assert flag(association) is True
    second.delete()
    assert flag(association) is False


def test_a_request_moved_to_another_association_moves_the_flag(partner, customer):
    association = customer.associations.get()
    other = f.AssociationFactory(partner=partner)
    r = f.AssociationRequestFactory(association=association, kind="switch")
    AssociationRequest.objects.filter(pk=r.pk).update(association=other)
    assert (flag(association), flag(other)) == (False, True)


def test_saving_an_association_read_before_a_request_keeps_the_flag(customer):
    stale = Association.objects.get(customer=customer)
    f.AssociationRequestFactory(association=stale, kind="switch")
    stale.type = Association.Type.REFERRAL
    stale.save()
    assert flag(stale) is True
    assert Association.objects.get(pk=stale.pk).type == Association.Type.REFERRAL


def test_the_request_services_keep_it_too(admin_member, customer):
    from customers.requests import services

    association = customer.associations.get()
    r = services.request_submit(actor=admin_member, association=association, kind="unbind", reason="moving on")
    assert flag(association) is True
    services.request_cancel(actor=admin_member, association_request=r)
    assert flag(association) is False


def test_the_filter_leaves_out_a_pending_request_past_its_deadline(as_user, admin_member, partner):
    due = f.AssociationFactory(partner=partner)
    open_ = f.AssociationFactory(partner=partner)
    f.AssociationRequestFactory(association=due, kind="switch", deadline=timezone.now() - timedelta(minutes=1))
    f.AssociationRequestFactory(association=open_, kind="unbind", deadline=timezone.now() + timedelta(days=2))
    html = as_user(admin_member).get(reverse("customers:list"), {"pending": "any"}).content.decode()
    assert open_.customer.account_name in html
    assert due.customer.account_name not in html
    switch = as_user(admin_member).get(reverse("customers:list"), {"pending": "switch"}).content.decode()
    assert open_.customer.account_name not in switch


@pytest.mark.postgres
def test_on_postgresql_the_filter_walks_the_partial_index(as_user, admin_member, partner):
    from customers.selectors import active_associations_for, pending_request_filter

    qs = active_associations_for(admin_member).filter(pending_request_filter("any")).order_by("-started_at", "-id")
    plan = explain(qs[:51], forbid=("bitmapscan", "seqscan"))
    assert "assoc_partner_pending_started" in plan
    assert "Sort" not in plan.split("SubPlan")[0]  # read in the index's order, no sort of every match
