"""Scoped reads for invitations and project registrations. Another partner's invitation or
project is a 404; a member limited to managed customers (R16) sees the invitations they or
their managed members sent, and the projects of the customers they manage."""
from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.models import Customer, Invitation, ProjectRegistration
from customers.selectors import active_associations_for, narrowed_to_managers


def invitations_for(user) -> QuerySet[Invitation]:
    """The member's partner's invitations, each annotated with ``display_status`` (a sent
    invitation past its expiry shows as expired)."""
    qs = Invitation.objects.filter(partner_id=user.partner_id).annotate(
        display_status=Case(
            When(status=Invitation.Status.SENT, expires_at__lte=timezone.now(), then=Value(Invitation.Status.EXPIRED)),
            default="status",
            output_field=CharField(),
        )
    )
    return narrowed_to_managers(qs, user, "created_by_id")


def invitation_status_filter(status: str) -> Q:
    now = timezone.now()
    if status == Invitation.Status.SENT:
        return Q(status=Invitation.Status.SENT, expires_at__gt=now)
    if status == Invitation.Status.EXPIRED:
        return Q(status=Invitation.Status.SENT, expires_at__lte=now)
    return Q(status=status)


def invitation_for_member(user, pk) -> Invitation:
    return get_object_or_404(invitations_for(user), pk=pk)


def open_invitations_for_customer(customer: Customer) -> QuerySet[Invitation]:
    """Invitations addressed to the customer's e-mail that can still be accepted, with what
    the Account Center home shows of them (the partner's name, the type, the expiry and the
    nonce of its link): compiling the statement took most of its time."""
    return (
        Invitation.objects.filter(
            email__iexact=customer.email, status=Invitation.Status.SENT, expires_at__gt=timezone.now()
        )
        .select_related("partner")
        .only("partner__name", "type", "expires_at", "nonce")
        .order_by("-sent_at")
    )


def projects_for(user) -> QuerySet[ProjectRegistration]:
    qs = ProjectRegistration.objects.filter(partner_id=user.partner_id)
    return narrowed_to_managers(qs, user)


def own_customer_by_account(user, account_name: str) -> Customer | None:
    """One of the member's partner's own active customers (narrowed for customer managers)."""
    association = (
        active_associations_for(user)
        .filter(customer__account_name=account_name.strip())
        .select_related("customer")
        .first()
    )
    return association.customer if association else None
