"""The customer list's frozen filter (issue 17): ``Association.customer_frozen`` is the
customer's ``frozen`` copied by the database's triggers (customers migration 0016) whatever
writes the customer or the association, Django never writes it back from a stale row, and the
list, its figure on the home and its export agree with the customers' own flag."""
import pytest
from django.urls import reverse

from customers.models import Association, Customer
from partnercenter import factories as f
from tests.plans import explain


def copied(association) -> bool:
    return Association.objects.values_list("customer_frozen", flat=True).get(pk=association.pk)


def test_a_new_association_takes_its_customers_flag(partner):
    frozen = f.CustomerFactory(frozen=True)
    normal = f.CustomerFactory()
    assert copied(f.AssociationFactory(partner=partner, customer=frozen)) is True
    assert copied(f.AssociationFactory(partner=partner, customer=normal)) is False


def test_a_change_of_the_customers_flag_reaches_every_association_of_it(partner, other_partner):
    customer = f.CustomerFactory()
    ended = f.AssociationFactory(partner=other_partner, customer=customer, status="ended",
                                 ended_at="2025-01-01T00:00Z", end_reason="unbind")
    current = f.AssociationFactory(partner=partner, customer=customer)
    Customer.objects.filter(pk=customer.pk).update(frozen=True)  # bulk, no save()
    assert (copied(current), copied(ended)) == (True, True)
    customer.refresh_from_db()
    customer.frozen = False
    customer.save()
    assert (copied(current), copied(ended)) == (False, False)


def test_an_association_moved_to_another_customer_takes_that_customers_flag(partner):
    association = f.AssociationFactory(partner=partner)
    frozen = f.CustomerFactory(frozen=True)
    Association.objects.filter(pk=association.pk).update(customer=frozen)
    assert copied(association) is True


def test_saving_an_association_read_before_a_freeze_keeps_the_flag(partner):
    stale = f.AssociationFactory(partner=partner)
    Customer.objects.filter(pk=stale.customer_id).update(frozen=True)
    stale.type = Association.Type.REFERRAL
    stale.save()
    assert copied(stale) is True
    assert Association.objects.get(pk=stale.pk).type == Association.Type.REFERRAL


def test_the_freeze_services_keep_it(admin_member, partner):
    from customers.controls import services

    association = f.AssociationFactory(partner=partner, type=Association.Type.RESELLER)
    services.customer_freeze(actor=admin_member, association=association, reason="unpaid invoices")
    assert copied(association) is True
    services.customer_unfreeze(actor=admin_member, association=association, reason="paid")
    assert copied(association) is False


def test_the_filter_and_the_home_figure_show_exactly_the_frozen_customers(as_user, admin_member, partner):
    frozen = f.AssociationFactory(partner=partner, customer=f.CustomerFactory(frozen=True))
    normal = f.AssociationFactory(partner=partner)
    client = as_user(admin_member)
    html = client.get(reverse("customers:list"), {"status": "frozen"}).content.decode()
    assert frozen.customer.account_name in html
    assert normal.customer.account_name not in html
    Customer.objects.filter(pk=normal.customer_id).update(frozen=True)
    Customer.objects.filter(pk=frozen.customer_id).update(frozen=False)
    html = client.get(reverse("customers:list"), {"status": "frozen"}).content.decode()
    assert normal.customer.account_name in html
    assert frozen.customer.account_name not in html
    from customers.home.selectors import customer_figures

    assert customer_figures(admin_member)["frozen"].count == 1


@pytest.mark.postgres
def test_on_postgresql_the_filter_walks_the_partial_index(admin_member, partner):
    from customers.selectors import active_associations_for, customer_fact

    qs = active_associations_for(admin_member).filter(customer_fact("frozen")).order_by("-started_at", "-id")
    plan = explain(qs[:51], forbid=("bitmapscan", "seqscan"))
    assert "assoc_partner_frozen_started" in plan
    assert "Sort" not in plan
