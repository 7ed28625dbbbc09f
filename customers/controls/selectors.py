"""Reads of the reseller controls, scoped to the acting member: the associations a partner may
control (its own customers and, for a distributor, its resellers' customers), a customer's
freeze and budget as a page shows them, and the budget history."""
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from customers.controls import services as controls
from customers.controls.services import (
    FREEZE_PERMISSION,
    freeze_granted,
    month_to_date,
    unfreeze_refusal,
    used_percent,
)
from customers.forms import CustomerFilterForm
from customers.models import Association, Batch, BatchRow, BudgetChange, Customer, PartnerControls
from customers.selectors import customer_list_managers, customer_list_rows, manager_scope
from organization.models import Partner, User


def controllable_associations(user):
    """The active associations of the customers of the member's partner and of its resellers
    (a distributor's), narrowed for customer managers: what the member may act on, one
    customer at a time or in a batch."""
    partner = user.partner
    qs = Association.objects.filter(status=Association.Status.ACTIVE).select_related(
        "customer", "customer__user", "customer__frozen_by_partner", "partner", "partner__distributor"
    )
    own = qs.filter(partner=partner)
    if partner.is_distributor:
        own = own | qs.filter(partner__distributor=partner)
    scope = manager_scope(user)
    if scope is not None:
        own = own.filter(customer__manager_id__in=scope)
    return own


def controllable_association(user, customer_pk) -> Association:
    """One of ``controllable_associations``, by its customer; 404 for anything else."""
    return get_object_or_404(controllable_associations(user), customer_id=customer_pk)


_GRANTED = "_freeze_granted"


def granted_for(user) -> bool:
    """``freeze_granted(user.partner)``, read once per request for the page's reads (the
    customer page asks it for its menu, its controls and its unfreeze link, and reads it in
    its association statement: ``remember_granted``); a service reads it again under its
    locks."""
    if _GRANTED not in user.__dict__:
        user.__dict__[_GRANTED] = freeze_granted(user.partner)
    return user.__dict__[_GRANTED]


def remember_granted(user, granted: bool) -> None:
    user.__dict__[_GRANTED] = bool(granted)


def lacks_grant(user, association: Association) -> bool:
    """A reseller's member acting on its own customer while its distributor has not granted
    the right: refused outright (403), not explained as a rule of this customer."""
    return association.partner_id == user.partner_id and not granted_for(user)


def freezable_association(user, customer_pk) -> Association:
    """``controllable_association`` for freezing and unfreezing: a member of a reseller its
    distributor has not granted the right is refused (403) on the page and in the API alike."""
    association = controllable_association(user, customer_pk)
    if lacks_grant(user, association):
        raise PermissionDenied(
            _("Your distributor has not granted you the right to freeze and unfreeze your customers.")
        )
    return association


def budget_association(user, customer_pk) -> Association:
    """``controllable_association`` for the monthly budget: only the partner's own customers,
    since a reseller's customer's budget is the reseller's (a distributor gets a 404)."""
    association = controllable_association(user, customer_pk)
    if association.partner_id != user.partner_id:
        raise Http404
    return association


def may_unfreeze(user, association: Association) -> bool:
    """Whether the member may lift the customer's freeze now (the Unfreeze button, the budget
    form's tick box)."""
    return bool(
        user.has_perm(FREEZE_PERMISSION)
        and association.customer.frozen
        and unfreeze_refusal(partner=user.partner, association=association, granted=granted_for(user)) is None
    )


@dataclass(frozen=True)
class ControlsSummary:
    """What the customer page and the Account Center show of the controls."""

    frozen: bool
    source: str
    by_vendor: bool
    by_name: str
    by_partner: str
    at: object
    reason: str
    budget: Decimal | None
    spend: Decimal
    percent: int | None
    may_unfreeze: bool


def controls_summary(customer: Customer, *, user=None, association: Association | None = None) -> ControlsSummary:
    by_partner = ""
    if customer.frozen_by_partner_id and Customer.frozen_by_partner.is_cached(customer):
        by_partner = customer.frozen_by_partner.name  # joined by the page's read (select_related)
    elif customer.frozen_by_partner_id:
        by_partner = Partner.objects.filter(pk=customer.frozen_by_partner_id).values_list("name", flat=True).first()
    return ControlsSummary(
        frozen=customer.frozen,
        source=customer.frozen_source,
        by_vendor=customer.frozen_by_vendor,
        by_name=customer.frozen_by_name,
        by_partner=by_partner or "",
        at=customer.frozen_at,
        reason=customer.frozen_reason,
        budget=customer.monthly_budget,
        spend=month_to_date(customer),
        percent=used_percent(customer),
        may_unfreeze=user is not None and association is not None and may_unfreeze(user, association),
    )


def budget_history(customer: Customer, *, partner: Partner, limit: int = 20) -> list[BudgetChange]:
    """The partner's own budget changes of the customer, newest first."""
    return list(BudgetChange.objects.filter(customer=customer, partner=partner).order_by("-id")[:limit])


def resellers_with_grants(distributor: Partner) -> list[tuple[Partner, bool]]:
    """The distributor's resellers, each with whether it may freeze its own customers."""
    resellers = list(Partner.objects.filter(distributor=distributor).order_by("name"))
    granted = set(
        PartnerControls.objects.filter(partner__in=resellers, freeze_granted=True).values_list("partner_id", flat=True)
    )
    return [(reseller, reseller.pk in granted) for reseller in resellers]


def customer_controls_context(user, customer: Customer, association: Association | None) -> dict:
    """The customer page's part of the controls: the summary, and whether the member's partner
    may freeze or unfreeze this customer at all."""
    if association is None:
        return {"controls_summary": controls_summary(customer), "controls_may_act": False}
    may_act = controls.control_refusal(partner=user.partner, association=association, granted=granted_for(user)) is None
    return {
        "controls_summary": controls_summary(customer, user=user, association=association),
        "controls_may_act": may_act,
        "controls_vendor_note": customer.frozen_by_vendor,
    }


def batch_for_member(user, pk, *, progress: bool = False) -> Batch:
    """A batch of the member's partner (another partner's is a 404); with ``progress``, with
    the counts ``customers.controls.batches.progress`` reads (:func:`with_progress`)."""
    qs = Batch.objects.select_related("created_by", "manager")
    return get_object_or_404(with_progress(qs) if progress else qs, pk=pk, partner=user.partner)


def with_progress(qs: QuerySet[Batch]) -> QuerySet[Batch]:
    """Each batch with ``refused_rows`` and ``pending_rows``, its rows not changed, counted in
    the batch's own statement on ``batch_row_outcome``. The changed ones are the rest of
    ``total``: counting them read every row of a finished batch (10,000 index entries, 1.2 ms,
    for the bench's batch) where these read the few that did not change."""
    def rows(outcome):
        counted = (BatchRow.objects.filter(batch=OuterRef("pk"), outcome=outcome).order_by()
                   .values("batch").annotate(n=Count("pk")).values("n"))
        return Coalesce(Subquery(counted), 0)

    return qs.annotate(refused_rows=rows(BatchRow.Outcome.REFUSED), pending_rows=rows(BatchRow.Outcome.PENDING))


def matching_customer_ids(user, query: QueryDict, *, limit: int) -> list[int]:
    """The customers of every row the customer list shows for ``query`` (its query string: tab
    and filters), up to ``limit``, in the list's order."""
    from customers.views import list_filters

    tab = "resellers" if query.get("tab") == "resellers" and user.partner.is_distributor else "mine"
    data = query.copy()
    data.pop("cursor", None)
    form = CustomerFilterForm(data or None, managers=customer_list_managers(user))
    rows, ordering = customer_list_rows(user, tab=tab, filters=list_filters(form))
    return list(rows.order_by(*ordering).values_list("customer_id", flat=True)[:limit])


def batch_manager(user, member_id: int) -> User | None:
    """The member of ``user``'s partner with this id, whom a manager batch would assign (the
    batch's check refuses anyone else); None when the partner has no such member."""
    return User.objects.filter(pk=member_id, partner_id=user.partner_id).first()
