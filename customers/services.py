"""Customer actions that are not association requests, funds or invitations."""
from django.db import transaction

from audit.events import Event
from audit.services import jsonable, record
from customers.models import Association, Customer


@transaction.atomic
def customer_facts_save(*, actor, customer: Customer, changed: list[str]) -> Customer:
    """An operator edits a customer's account facts (admin); the change is recorded."""
    before = {}
    if customer.pk and changed:
        before = Customer.objects.select_for_update().values(*changed).get(pk=customer.pk)
    if customer.pk:
        # The allocated balance moves only through customers.funds; the admin form's copy may
        # be stale by now and must never be written back.
        kept = {"id", "allocated_balance"}
        customer.save(update_fields=[f.name for f in Customer._meta.concrete_fields if f.name not in kept])
    else:
        customer.save()
    after = {k: getattr(customer, Customer._meta.get_field(k).attname) for k in changed}
    # A form may call a field changed that holds the same value (a date-time shown in the
    # local time zone and posted back, 10 for 10.00): the record keeps only what really changed.
    changed = [k for k in changed if k not in before or before[k] != after[k]]
    before = {k: jsonable(v) for k, v in before.items()}
    after = {k: jsonable(v) for k, v in after.items()}
    if changed:
        association = Association.objects.filter(customer=customer, status=Association.Status.ACTIVE).first()
        record(
            event=Event.CUSTOMER_FACTS_UPDATED,
            actor=actor,
            customer=customer,
            partner=association.partner if association else None,
            association=association,
            before={k: before[k] for k in changed if k in before},
            after={k: after[k] for k in changed},
        )
    return customer


def association_create(
    *, actor, partner, customer: Customer, type: str, origin: str, reason: str = ""
) -> Association:
    """Associate ``customer`` with ``partner``. Must run inside the caller's transaction (the
    acceptance of an invitation, a registration…), which has already locked the customer row
    and run the account check. The database's one-active-association constraint is the last
    word: a concurrent association makes this raise IntegrityError and the caller's
    transaction roll back."""
    association = Association.objects.create(partner=partner, customer=customer, type=type, origin=origin)
    record(
        event=Event.ASSOCIATION_CREATED,
        actor=actor,
        partner=partner,
        customer=customer,
        association=association,
        reason=reason,
        after={"type": type, "origin": origin},
    )
    return association
