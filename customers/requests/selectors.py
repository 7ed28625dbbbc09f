"""Scoped reads of association requests. A member sees the requests on their own partner's
associations (narrowed to a customer manager's customers); a customer sees its own."""
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.models import Association, AssociationRequest, Customer
from customers.selectors import narrowed_to_managers

Status = AssociationRequest.Status


def requests_for_member(user) -> QuerySet[AssociationRequest]:
    qs = AssociationRequest.objects.filter(association__partner=user.partner)
    return narrowed_to_managers(qs, user, "association__customer__manager_id")


def request_for_member(user, pk) -> AssociationRequest:
    return get_object_or_404(
        requests_for_member(user).select_related("association__partner", "association__customer", "requested_by"),
        pk=pk,
    )


def request_for_customer(customer: Customer, pk) -> AssociationRequest:
    return get_object_or_404(
        AssociationRequest.objects.filter(association__customer=customer).select_related(
            "association__partner", "association__customer"
        ),
        pk=pk,
    )


def active_association_for_customer(customer: Customer) -> Association | None:
    return (
        Association.objects.filter(customer=customer, status=Association.Status.ACTIVE)
        .select_related("partner__distributor", "customer")
        .first()
    )


def requests_for_customer(customer: Customer) -> QuerySet[AssociationRequest]:
    return AssociationRequest.objects.filter(association__customer=customer).select_related("association__partner")


def open_request_for(association: Association) -> AssociationRequest | None:
    return (
        AssociationRequest.objects.filter(association=association, status=Status.PENDING, deadline__gt=timezone.now())
        .select_related("requested_by")
        .first()
    )
