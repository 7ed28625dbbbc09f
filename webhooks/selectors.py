"""Scoped reads: a member sees only their partner's endpoints and deliveries (else 404)."""
from django.shortcuts import get_object_or_404

from webhooks.models import Delivery, Endpoint


def endpoints_of(member):
    return Endpoint.objects.filter(partner_id=member.partner_id)


def endpoint_for(member, pk) -> Endpoint:
    return get_object_or_404(endpoints_of(member), pk=pk)


def deliveries_of(endpoint: Endpoint):
    return Delivery.objects.filter(endpoint=endpoint)


def delivery_for(endpoint: Endpoint, pk) -> Delivery:
    return get_object_or_404(deliveries_of(endpoint).select_related("endpoint"), pk=pk)


def delivery_for_member(member, pk) -> Delivery:
    return get_object_or_404(Delivery.objects.select_related("endpoint").filter(
        endpoint__partner_id=member.partner_id), pk=pk)
