"""``customers.selectors.visible_through`` works out on rows a page reads the same scope that
``customers_visible_to`` puts in a statement (the customer page and getCustomer check it on
their own rows): the two must agree for every member and every customer, or one door opens
where the other does not."""
import pytest
from django.http import Http404

from customers.models import Association
from customers.selectors import (
    active_association_for_member,
    customer_page_for_member,
    customers_visible_to,
    visible_through,
)
from organization.models import User
from partnercenter import factories as f


def fresh(member):
    return User.objects.select_related("partner").get(pk=member.pk)


@pytest.fixture
def customers(partner, other_partner, distributor, reseller, manager):
    ended = f.CustomerFactory(account_name="ended")
    f.AssociationFactory(partner=partner, customer=ended, status="ended", ended_at="2025-01-01T00:00Z",
                         end_reason="unbind")
    made = {
        "own": f.AssociationFactory(partner=partner).customer,
        "own, managed": f.AssociationFactory(partner=partner, customer=f.CustomerFactory(manager=manager)).customer,
        "other partner's": f.AssociationFactory(partner=other_partner).customer,
        "reseller's": f.AssociationFactory(partner=reseller).customer,
        "distributor's own": f.AssociationFactory(partner=distributor).customer,
        "ended with the partner": ended,
        "never associated": f.CustomerFactory(account_name="alone"),
    }
    return made


def test_the_check_on_rows_agrees_with_the_scoped_statement(
    customers, admin_member, manager, viewer, other_member, dist_admin
):
    for member in (admin_member, manager, viewer, other_member, dist_admin):
        member = fresh(member)
        visible = set(customers_visible_to(member).values_list("pk", flat=True))
        for label, customer in customers.items():
            rows = list(Association.objects.filter(customer=customer).select_related("partner"))
            expected = customer.pk in visible
            assert visible_through(member, customer, rows) is expected, (member.username, label)
            if expected:
                assert customer_page_for_member(member, customer.pk).customer.pk == customer.pk
                assert active_association_for_member(member, customer.pk).customer_id == customer.pk
            else:
                with pytest.raises(Http404):
                    customer_page_for_member(member, customer.pk)
                with pytest.raises(Http404):
                    active_association_for_member(member, customer.pk)
