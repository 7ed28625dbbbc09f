"""Every page that shows a request settles an overdue one first, before the scheduled job runs:
nothing looks pending with its deadline passed, and the Account Center does not offer to
dissociate beside it (issue 15). Time passes by moving the deadline into the past, as the
other request tests do."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Association, AssociationRequest, Customer
from customers.requests import services as services

Kind = AssociationRequest.Kind
Status = AssociationRequest.Status
HOME = reverse("account_center:home")


@pytest.fixture
def association(customer):
    return Association.objects.select_related("partner", "customer").get(customer=customer, status="active")


def overdue(association_request):
    AssociationRequest.objects.filter(pk=association_request.pk).update(
        deadline=timezone.now() - timedelta(minutes=1)
    )


def test_the_partners_customer_page_settles_an_overdue_unbind(as_user, admin_member, association):
    request = services.request_submit(actor=admin_member, association=association, kind=Kind.UNBIND, reason="Go")
    overdue(request)
    body = as_user(admin_member).get(reverse("customers:detail", args=[association.customer_id])).content.decode()
    assert AssociationRequest.objects.get(pk=request.pk).status == Status.EXPIRED
    assert "Pending:" not in body and ">Pending<" not in body


def test_the_account_center_settles_an_overdue_partner_request_and_shows_it_expired(
    as_user, admin_member, association, customer_user
):
    request = services.request_submit(actor=admin_member, association=association, kind=Kind.UNBIND, reason="Go")
    overdue(request)
    body = as_user(customer_user).get(HOME).content.decode()
    assert AssociationRequest.objects.get(pk=request.pk).status == Status.EXPIRED
    assert ">Pending<" not in body
    # The association goes on, so dissociating is offered, beside an expired request only.
    assert "Dissociate from my partner" in body


def test_the_account_center_settles_an_overdue_dissociation_before_offering_to_dissociate(
    as_user, association, customer_user
):
    request = services.request_submit_dissociation(actor=customer_user, association=association, reason="Leaving")
    overdue(request)
    body = as_user(customer_user).get(HOME).content.decode()
    assert AssociationRequest.objects.get(pk=request.pk).status == Status.AUTO_APPROVED
    assert Association.objects.get(pk=association.pk).status == Association.Status.ENDED
    assert "Dissociate from my partner" not in body
    assert "not associated with any partner" in body


def test_the_requests_inbox_settles_the_overdue_requests_it_shows(as_user, admin_member, association, customer_user):
    request = services.request_submit_dissociation(actor=customer_user, association=association, reason="Leaving")
    overdue(request)
    as_user(admin_member).get(reverse("customers:request_inbox"))
    assert AssociationRequest.objects.get(pk=request.pk).status != Status.PENDING


@pytest.mark.parametrize("page", ["portal", "account_center", "api"])
def test_a_requests_own_page_settles_it_when_overdue_and_shows_it_settled(
    client, as_user, admin_member, association, customer_user, page
):
    from api.services import partner_token_create

    request = services.request_submit(actor=admin_member, association=association, kind=Kind.UNBIND, reason="Go")
    overdue(request)
    if page == "api":
        raw = partner_token_create(member=admin_member)[1]
        shown = client.get(f"/api/v1/requests/{request.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["status"]
        assert shown == Status.EXPIRED
    else:
        user, name = (admin_member, "customers:request_detail") if page == "portal" else (
            customer_user, "account_center:request_handle")
        response = as_user(user).get(reverse(name, args=[request.pk]))
        assert response.context["association_request"].status == Status.EXPIRED
    assert AssociationRequest.objects.get(pk=request.pk).status == Status.EXPIRED


@pytest.mark.parametrize("page", ["portal", "account_center"])
def test_a_closed_requests_page_settles_another_overdue_request_of_its_association(
    as_user, admin_member, association, customer_user, page
):
    """The request read says whether its association has an overdue request, this one or another."""
    from partnercenter import factories as f

    closed = f.AssociationRequestFactory(association=association, kind=Kind.UNBIND, status=Status.CANCELLED,
                                         created_at=timezone.now() - timedelta(days=200))
    pending = services.request_submit(actor=admin_member, association=association, kind=Kind.SWITCH, reason="Go")
    overdue(pending)
    user, name = (admin_member, "customers:request_detail") if page == "portal" else (
        customer_user, "account_center:request_handle")
    assert as_user(user).get(reverse(name, args=[closed.pk])).status_code == 200
    assert AssociationRequest.objects.get(pk=pending.pk).status == Status.EXPIRED


TOP_UP = "Top up your account and set a payment method"


def test_after_an_unbind_the_account_center_says_to_top_up_until_there_is_money(
    as_user, admin_member, association, customer_user
):
    client = as_user(customer_user)
    assert TOP_UP not in client.get(HOME).content.decode()  # associated: the partner pays
    request = services.request_submit(actor=admin_member, association=association, kind=Kind.UNBIND, reason="Go")
    services.request_confirm(actor=customer_user, association_request=request)
    assert TOP_UP in client.get(HOME).content.decode()
    assert TOP_UP in client.get(HOME).content.decode()  # still there on the next visit
    Customer.objects.filter(pk=association.customer_id).update(cash_balance=Decimal("10.00"), cash_withdraw_only=True)
    assert TOP_UP in client.get(HOME).content.decode()  # withdraw-only money cannot be spent
    Customer.objects.filter(pk=association.customer_id).update(cash_withdraw_only=False)
    assert TOP_UP not in client.get(HOME).content.decode()


def test_a_customer_never_associated_is_not_told_to_top_up(as_user, db):
    from partnercenter import factories as f

    lone = f.CustomerWithUserFactory(account_name="lone")
    assert TOP_UP not in as_user(lone.user).get(HOME).content.decode()
