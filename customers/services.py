"""Customer actions that are not association requests, funds or invitations."""
from django.db import transaction

from audit.events import Event
from audit.services import jsonable, record
from customers.models import Association, Customer

FREEZE_DETAILS = ("frozen_source", "frozen_by_partner", "frozen_by", "frozen_by_name", "frozen_at", "frozen_reason")


@transaction.atomic
def customer_facts_save(*, actor, customer: Customer, changed: list[str]) -> Customer:
    """An operator edits a customer's account facts (admin); the change is recorded."""
    before = {}
    if customer.pk and changed:
        before = Customer.objects.select_for_update().values(*changed).get(pk=customer.pk)
    freeze_changed = bool(customer.pk) and "frozen" in changed and before.get("frozen") != customer.frozen
    if freeze_changed:
        from customers.controls.services import vendor_freeze_changed

        current = Association.objects.filter(customer=customer, status=Association.Status.ACTIVE).first()
        vendor_freeze_changed(actor=actor, customer=customer, association=current)
    if customer.pk:
        # The allocated balance moves only through customers.funds; the admin form's copy may
        # be stale by now and must never be written back.
        # Nor are the budget's figures (customers.controls) or, unless the operator changed
        # the freeze just now, who froze the account.
        kept = {"id", "allocated_balance", "monthly_budget", "spend_month", "month_spend", "budget_alert"}
        if not freeze_changed:
            kept |= {"frozen", *FREEZE_DETAILS}
        customer.save(update_fields=[f.name for f in Customer._meta.concrete_fields if f.name not in kept])
    else:
        if customer.frozen:
            from customers.controls.services import set_freeze

            set_freeze(customer, source="vendor", partner=None, actor=actor, reason=customer.frozen_reason)
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
    if type == Association.Type.RESELLER:
        from customers.controls.services import reseller_customer_started

        reseller_customer_started(association=association)
    return association
