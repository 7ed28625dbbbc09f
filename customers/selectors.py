"""Reads scoped to the acting member. Everything a partner view shows comes through here, so
another partner's object is a 404 and a customer manager only sees their own customers."""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import JSONObject
from django.db.models.lookups import IsNull
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.models import Association, AssociationRequest, Customer, PartnerControls, ReservedInstance
from organization.backends import customer_role_keys, role_keys
from organization.models import Partner, Role, User
from organization.selectors import MANAGER_ROLES
from partnercenter.expressions import JSONRows, json_moment
from partnercenter.pagination import ListedRow
from partnercenter.statements import Names, read


def manager_scope(user) -> list[int] | None:
    """The manager ids whose customers ``user`` is limited to, or None for no limit (R16).

    A member is limited when they hold Customer Manager or Customer Manager Supervisor and no
    other customer-facing role (one granting ``customers.view_customer``): a manager to their
    own customers, a supervisor also to their managers'. Roles that do not show customers (a
    custom role with only ``organization.use_api``, say) neither lift nor add to the limit."""
    if not hasattr(user, "_manager_scope"):
        builtins = role_keys(user)
        facing = {*customer_role_keys(user), *(b for b in builtins if b in MANAGER_ROLES)}
        if facing and all(b in MANAGER_ROLES for b in facing):
            ids = [user.pk]
            if Role.Builtin.CUSTOMER_MANAGER_SUPERVISOR in builtins:
                ids += list(user.supervised.values_list("pk", flat=True))
            user._manager_scope = ids
        else:
            user._manager_scope = None
    return user._manager_scope


def narrowed_to_managers(qs: QuerySet, user, manager: str = "customer__manager_id") -> QuerySet:
    """``qs`` limited to the rows whose ``manager`` lookup (the customer's manager, by default)
    is in ``user``'s ``manager_scope``; unchanged for a member without the limit."""
    scope = manager_scope(user)
    return qs if scope is None else qs.filter(**{f"{manager}__in": scope})


def active_associations_for(user, *, resellers: bool = False) -> QuerySet[Association]:
    """The member's partner's active associations (``resellers``: those of the resellers
    under the member's distributor, read-only), narrowed for customer managers."""
    partner = user.partner
    qs = Association.objects.filter(status=Association.Status.ACTIVE)
    if resellers:
        qs = qs.filter(partner__distributor=partner) if partner.is_distributor else qs.none()
    else:
        qs = qs.filter(partner=partner)
    return narrowed_to_managers(qs, user)


def customers_visible_to(user) -> QuerySet[Customer]:
    """Customers the member may open: those actively associated with their partner (or with
    a reseller under their distributor), narrowed for customer managers."""
    partner = user.partner
    condition = Q(associations__status=Association.Status.ACTIVE) & (
        Q(associations__partner=partner) | Q(associations__partner__distributor=partner)
    )
    qs = Customer.objects.filter(condition)
    return narrowed_to_managers(qs, user, "manager_id")


def customer_for_member(user, pk) -> Customer:
    return get_object_or_404(customers_visible_to(user).select_related("manager", "enterprise_master"), pk=pk)


def visible_through(user, customer: Customer, associations) -> bool:
    """Whether ``user`` may open ``customer``, from ``associations`` (every active one of the
    customer's, each with its partner): :func:`customers_visible_to`'s condition worked out on
    rows a page reads anyway, so that its statement needs no scope subquery."""
    scope = manager_scope(user)
    if scope is not None and customer.manager_id not in scope:
        return False
    partner_id = user.partner_id
    return any(a.is_active and partner_id in (a.partner_id, a.partner.distributor_id) for a in associations)


def active_association_for_member(user, pk) -> Association:
    """The active association of customer ``pk`` with its customer and partner, where ``user``
    may open the customer (:func:`customer_for_member`'s scope, checked on the row by
    :func:`visible_through`); 404 otherwise. A customer the member may see has one: its own
    partner's or a reseller's under the member's distributor."""
    association = (
        Association.objects.filter(customer_id=pk, status=Association.Status.ACTIVE)
        .select_related("customer", "partner")
        .first()
    )
    if association is None or not visible_through(user, association.customer, [association]):
        raise Http404
    return association


def only_fields(path: str, model, *names: str) -> list[str]:
    """``.only()`` arguments for the model a select_related ``path`` reaches: ``names`` (its
    primary key besides), or every concrete field when none are given. A page names what it
    shows of a joined row; another field read would be a statement of its own, which the query
    budgets count."""
    fields = names or [f.attname for f in model._meta.concrete_fields]
    return [f"{path}{name}" for name in fields]


@dataclass
class CustomerPage:
    """What the partner's customer page reads in one statement: the customer, every
    association it has had (newest first, with the partner) and its unexpired reserved
    instances (soonest first)."""

    customer: Customer
    associations: list[Association]
    unexpired_reserved_instances: list[ReservedInstance]

    @property
    def current(self) -> Association | None:
        return next((a for a in self.associations if a.is_active), None)


def customer_page_for_member(user, pk, *, now: datetime | None = None) -> CustomerPage:
    """The customer ``pk`` as :func:`customer_for_member` scopes it (another partner's
    customer, or one outside a customer manager's scope, is a 404), read through its
    associations with the customer row and its reserved instances joined to them.

    The scope is checked on the rows read (:func:`visible_through`) rather than by a subquery,
    and of the customer's manager, enterprise master and freezing partner only what the page
    shows is read: PostgreSQL's planning and Django's compiling of the statement were most of
    its time."""
    now = now or timezone.now()
    unexpired = (
        ReservedInstance.objects.filter(customer=OuterRef("customer_id"), expires_at__gt=now)
        .order_by()
        .values("customer")
        .annotate(rows=JSONRows(JSONObject(resource="resource", expires_at="expires_at")))
        .values("rows")
    )
    # A reseller's grant to freeze its customers (its distributor's) rides along: the page's
    # menu, controls and unfreeze link ask it (customers.controls.selectors.granted_for).
    reseller = user.partner.kind == Partner.Kind.RESELLER
    granted = {"member_freeze_granted": Exists(PartnerControls.objects.filter(
        partner_id=user.partner_id, freeze_granted=True))} if reseller else {}
    associations = list(
        Association.objects.filter(customer_id=pk)
        .select_related("partner", "customer__manager", "customer__enterprise_master", "customer__frozen_by_partner")
        .only(
            *only_fields("", Association), *only_fields("partner__", Partner), *only_fields("customer__", Customer),
            # shown_manager and the manager's name (User.__str__); the master's account name;
            # the freezing partner's name (controls_summary)
            *only_fields("customer__manager__", User, "partner_id", "display_name", "member_name", "username"),
            *only_fields("customer__enterprise_master__", Customer, "account_name"),
            *only_fields("customer__frozen_by_partner__", Partner, "name"),
        )
        .annotate(unexpired_reserved_instances=Subquery(unexpired), **granted)
        .order_by("-started_at", "-pk")
    )
    if not associations or not visible_through(user, associations[0].customer, associations):
        raise Http404
    if reseller:
        from customers.controls.selectors import remember_granted

        remember_granted(user, associations[0].member_freeze_granted)
    customer = associations[0].customer
    for association in associations:
        association.customer = customer
    instances = [
        ReservedInstance(customer=customer, resource=row["resource"], expires_at=json_moment(row["expires_at"]))
        for row in associations[0].unexpired_reserved_instances or []
    ]
    instances.sort(key=lambda ri: ri.expires_at)
    return CustomerPage(customer=customer, associations=associations, unexpired_reserved_instances=instances)


def shown_manager(user, customer: Customer) -> User | None:
    """The customer's manager as ``user`` may see them: a member of ``user``'s own partner,
    never one of another partner's organization (a reseller's, or a manager left over from an
    association that has ended)."""
    manager = customer.manager
    return manager if manager is not None and manager.partner_id == user.partner_id else None


def own_manager_id(user) -> Case:
    """The customer's manager id where the manager belongs to ``user``'s partner, else NULL:
    what the customer list and its export show in the manager column (see
    :func:`shown_manager`)."""
    return Case(
        When(customer__manager__partner_id=user.partner_id, then=F("customer__manager_id")),
        default=None,
        output_field=IntegerField(),
    )


def own_association_for_member(user, customer_pk, *, for_update: bool = False, facts: bool = False) -> Association:
    """The active association of one of the partner's *own* customers (actions are never
    offered on a reseller's customer). 404 for anything else. ``facts``: with
    :func:`association_facts` read in the same statement."""
    qs = active_associations_for(user).select_related("customer", "partner")
    if facts:
        qs = qs.annotate(**association_facts())
    if for_update:
        qs = qs.select_for_update()
    return get_object_or_404(qs, customer_id=customer_pk)


def association_facts() -> dict:
    """Annotations of an association read before its account check, so that neither the
    settling nor the check spends a statement of its own on them: ``association_overdue``,
    whether a pending request of it is past its deadline (``customers.requests.services._settled``
    settles only then), and ``has_unexpired_reserved_instances`` (read by
    ``customers.checks.ReservedInstances``; the services' locked rows carry neither, so under
    the lock the check asks the database)."""
    now = timezone.now()
    return {
        "association_overdue": Exists(AssociationRequest.objects.filter(
            association_id=OuterRef("pk"), status=AssociationRequest.Status.PENDING, deadline__lte=now)),
        "has_unexpired_reserved_instances": Exists(ReservedInstance.objects.filter(
            customer_id=OuterRef("customer_id"), expires_at__gt=now)),
    }


# pg_trgm matches a substring through its three-character pieces, so a shorter term has none
# to look up and "contains" would read every customer (issue 17).
CONTAINS_MIN_LENGTH = 3
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


def _is_cjk_pair(term: str) -> bool:
    """Two Chinese, Japanese or Korean characters: a whole company or personal name as often as
    not ("华为", "王伟"), found anywhere in a name by its two-character index on PostgreSQL."""
    return len(term) == 2 and _CJK.fullmatch(term) is not None


def search_by_prefix(term: str) -> bool:
    """Whether :func:`search_filter` matches ``term`` at the start of the name and account name
    (and of a word of the name) rather than anywhere: a term too short for a substring index."""
    term = term.strip()
    return 0 < len(term) < CONTAINS_MIN_LENGTH and not _is_cjk_pair(term)


class CJKPairIn(Func):
    """``pc_cjk_bigrams(name) @> ARRAY[pair]``: the name holds the two characters side by side.
    The function (customers migration 0009) lists a name's adjacent CJK pairs and a GIN index
    on it answers the containment, where a trigram index has nothing to look up."""

    output_field = BooleanField()

    def __init__(self, field: str, pair: str):
        super().__init__(F(field), Value(pair))

    def as_sql(self, compiler, connection, **extra_context):
        field_sql, field_params = compiler.compile(self.source_expressions[0])
        pair_sql, pair_params = compiler.compile(self.source_expressions[1])
        return f"pc_cjk_bigrams({field_sql}) @> ARRAY[{pair_sql}]::text[]", (*field_params, *pair_params)


def customer_search(term: str, *, path: str = "customer__") -> Q:
    """Customers whose name, e-mail or account name matches ``term`` (``path``: how the query
    reaches the customer; "" on the customer itself).

    Each kind of term has a plan an index serves at a million customers: three characters or
    more match anywhere (trigram indexes, migration 0003); two CJK characters match anywhere in
    the name (pair index, migration 0009); a shorter term matches the start of the name, of a
    word of the name, or of the account name (:func:`search_by_prefix`; the page says so): the
    trigram indexes serve those too, through the word-start trigrams of "qz%" and "% qz%"."""
    term = term.strip()
    if search_by_prefix(term):
        return (
            Q(**{f"{path}name__istartswith": term})
            | Q(**{f"{path}name__icontains": f" {term}"})
            | Q(**{f"{path}account_name__istartswith": term})
        )
    if _is_cjk_pair(term):
        if connection.vendor != "postgresql":  # SQLite has no such index and needs none at its sizes
            return Q(**{f"{path}name__contains": term})
        return Q(CJKPairIn(f"{path}name", term))
    return (
        Q(**{f"{path}name__icontains": term})
        | Q(**{f"{path}email__icontains": term})
        | Q(**{f"{path}account_name__icontains": term})
    )


def search_filter(term: str, *, reseller: bool = False) -> Q:
    """Search an association list by the customer (:func:`customer_search`) and, on a
    distributor's Resellers' customers tab, by the reseller's name."""
    condition = customer_search(term)
    if reseller:
        # The partners that match are looked up first (a small table): a condition on the
        # partner ORed into the customer's would keep PostgreSQL from the customer indexes, and
        # the Resellers' customers tab would read every association for any term (bench/README §6).
        term = term.strip()
        lookup = "istartswith" if search_by_prefix(term) else "icontains"
        partners = Partner.objects.filter(
            Q(**{f"name__{lookup}": term}) | Q(**{f"account_name__{lookup}": term})
        ).values_list("pk", flat=True)
        if matching := list(partners):
            condition |= Q(partner_id__in=matching)
    return condition


def customer_fact(status: str, *, path: str = "customer__") -> Q:
    """Customers of an account status of the list's filter: "frozen" and "arrears" are the rare
    facts, each with its partial index (migration 0009); "normal" is nearly everyone. On
    associations (``path="customer__"``) "frozen" is the association's copy of the flag, whose
    partial index walks the partner's frozen customers in the list's order (migration 0016)."""
    if status == "frozen" and path == "customer__":
        return Q(customer_frozen=True)
    if status in ("frozen", "arrears"):
        # As a subquery of the few customer ids rather than a condition on the joined customer:
        # PostgreSQL then checks each of the partner's rows against the partial index alone
        # (an index-only probe) instead of reading every customer it passes.
        rare = Customer.objects.filter(**({"frozen": True} if status == "frozen" else {"arrears__gt": 0}))
        return Q(**{f"{path}id__in" if path else "pk__in": rare.values("pk")})
    return Q(**{f"{path}frozen": False, f"{path}arrears": 0})


def current_spend_months(now: datetime | None = None) -> set:
    """The months a customer's "this month" can be right now in some time zone (UTC−12 to
    UTC+14): the list reads month-to-date spend without each customer's time zone, so in the
    hours around a month's turn a spend may count for the month just ended or just begun
    (customers.controls.services.month_to_date is exact, for the customer page)."""
    now = now or timezone.now()
    return {(now + timedelta(hours=hours)).date().replace(day=1) for hours in (-12, 14)}


def budget_used_filter(percent: int, *, path: str = "customer__") -> Q:
    """Customers whose month-to-date spend is at least ``percent`` % of their monthly budget."""
    return Q(**{
        f"{path}monthly_budget__isnull": False,
        f"{path}spend_month__in": sorted(current_spend_months()),
        f"{path}month_spend__gte": F(f"{path}monthly_budget") * percent / 100,
    })


# Each sort orders by what its label names; the id breaks ties between associations that
# started at the same moment, which keeps the keyset pages exact.
CUSTOMER_LIST_SORTS = {
    "newest": ["-started_at", "-id"],
    "oldest": ["started_at", "id"],
    "account": ["customer__account_name"],
}


def customer_list_rows(user, *, tab: str, filters: dict | None) -> tuple[QuerySet[Association], list[str]]:
    """The customer list's rows and their keyset ordering: the tab's active associations
    narrowed by the filter form's cleaned data ({} when unfiltered; None for an invalid form,
    which shows nothing rather than everything). The list page and its CSV export both read
    through here, so the export is exactly the filtered list."""
    resellers = tab == "resellers"
    # The partner is the member's own on My customers; only the resellers' tab shows it.
    related = ["customer", "customer__manager", *(["partner"] if resellers else [])]
    qs = active_associations_for(user, resellers=resellers).select_related(*related)
    qs = qs.annotate(shown_manager_id=own_manager_id(user))
    if filters is None:
        return qs.none(), CUSTOMER_LIST_SORTS["newest"]
    if filters.get("q"):
        qs = qs.filter(search_filter(filters["q"], reseller=resellers))
    if filters.get("type"):
        qs = qs.filter(type=filters["type"])
    if filters.get("status"):
        qs = qs.filter(customer_fact(filters["status"]))
    if filters.get("manager"):
        qs = qs.filter(customer__manager_id=filters["manager"])
    if filters.get("pending"):
        qs = qs.filter(pending_request_filter(filters["pending"]))
    if filters.get("budget_used"):
        qs = qs.filter(budget_used_filter(filters["budget_used"]))
    return qs, CUSTOMER_LIST_SORTS[filters.get("sort") or "newest"]


@dataclass(slots=True)
class ListedCustomer(ListedRow):
    """A customer as a row of the customer list shows it."""

    id: int
    name: str
    account_name: str
    email: str
    frozen: bool
    arrears: Decimal
    manager_id: int | None
    manager_name: str
    monthly_budget: Decimal | None = None
    budget_used: int | None = None

    @property
    def in_arrears(self) -> bool:
        return self.arrears > 0


@dataclass(slots=True)
class ListedAssociation(ListedRow):
    """One row of the customer list: the association, its open request, its customer and, on
    the resellers' tab, the reseller's name."""

    id: int
    type: str
    started_at: datetime
    pending_request_id: int | None
    pending_request_kind: str | None
    pending_request_deadline: datetime | None
    customer: ListedCustomer
    partner_name: str


_LISTED = [
    "id", "type", "started_at", "pending_request_id", "pending_request_kind", "pending_request_deadline",
    "customer_id", "customer__name", "customer__account_name", "customer__email", "customer__frozen",
    "customer__arrears", "shown_manager_id", "customer__manager__display_name",
    "customer__manager__member_name", "customer__manager__username",
    "customer__monthly_budget", "customer__month_spend", "customer__spend_month",
]


def customer_list_listing(qs: QuerySet[Association], *, tab: str) -> QuerySet:
    """``annotate_pending_request(customer_list_rows(…))`` as the columns a list row shows, for
    :func:`listed_association`. A page of 50 rows read as model instances (association,
    customer and manager: 150 objects, every field of each) spent more time in the model layer
    than in the database (issue 9); these rows carry only what is shown."""
    return qs.values_list(*_LISTED, *(["partner__name"] if tab == "resellers" else []))


def listed_association(values: tuple) -> ListedAssociation:
    """A row of :func:`customer_list_listing` as a :class:`ListedAssociation`."""
    pk, type_, started_at, request_id, request_kind, deadline, customer_id, name, account_name, email, frozen, \
        arrears, manager_id, display_name, member_name, username, budget, spend, spend_month, *partner_name = values
    manager_name = User.shown_name(display_name, member_name, username) if manager_id else ""
    used = None
    if budget:
        used = int(spend * 100 / budget) if spend_month in current_spend_months() else 0
    customer = ListedCustomer(
        customer_id, name, account_name, email, frozen, arrears, manager_id, manager_name, budget, used
    )
    return ListedAssociation(
        pk, type_, started_at, request_id, request_kind, deadline, customer, partner_name[0] if partner_name else ""
    )


def _open_requests(kind: str = "") -> QuerySet[AssociationRequest]:
    """Pending requests still inside their deadline on the outer association: one past its
    deadline is as good as expired, whether or not the expiry job has run yet."""
    qs = AssociationRequest.objects.filter(
        association=OuterRef("pk"), status=AssociationRequest.Status.PENDING, deadline__gt=timezone.now()
    )
    return qs.filter(kind=kind) if kind else qs


def annotate_pending_request(qs: QuerySet[Association]) -> QuerySet[Association]:
    """Adds ``pending_request_id``, ``pending_request_kind`` and ``pending_request_deadline``
    to each association of a list, in the list's own query (no query per row): one LEFT JOIN
    on the open request, of which there is at most one per association (R6, the default),
    rather than a subquery per column. Where the setting allows more than one pending request,
    a join would repeat rows, so each column is the earliest deadline's subquery instead."""
    if settings.PARTNER_CENTER["PENDING_REQUESTS_PER_ASSOCIATION"] != 1:
        first = _open_requests("").order_by("deadline", "pk")
        return qs.annotate(
            pending_request_id=Subquery(first.values("pk")[:1]),
            pending_request_kind=Subquery(first.values("kind")[:1]),
            pending_request_deadline=Subquery(first.values("deadline")[:1]),
        )
    open_request = FilteredRelation(
        "requests",
        condition=Q(requests__status=AssociationRequest.Status.PENDING, requests__deadline__gt=timezone.now()),
    )
    return qs.annotate(open_request=open_request).annotate(
        pending_request_id=F("open_request__id"),
        pending_request_kind=F("open_request__kind"),
        pending_request_deadline=F("open_request__deadline"),
    )


def pending_request_filter(kind: str) -> Q:
    """Associations with an open request (of ``kind``, or of any kind for "any"). The
    ``has_pending_request`` column (kept by triggers, customers migration 0010) narrows the
    walk to the partial index ``assoc_partner_pending_started``; the subquery keeps the
    answer exact (a request past its deadline is not open). It is a scalar subquery
    (``(SELECT id … LIMIT 1) IS NOT NULL``), not ``EXISTS``: PostgreSQL turns an EXISTS into a
    join with every open request of the vendor and sorts, where this walks the index in the
    list's order and probes each row's requests (bench/README §8)."""
    first_open = Subquery(_open_requests("" if kind == "any" else kind).values("pk")[:1])
    return Q(has_pending_request=True) & Q(IsNull(first_open, False))


@cache
def _managers_sql(alias: str) -> str:
    """``organization.selectors.assignable_managers`` as one statement, written once per
    database, for the manager choices of every customer list page;
    ``tests/test_hand_written_statements.py`` holds the two together."""
    n = Names(alias)
    member_roles = User.roles.through
    shown = ", ".join(f"u.{n.column(User, name)}" for name in ("id", "display_name", "member_name", "username"))
    return (
        f"SELECT DISTINCT {shown} FROM {n.table(User)} u "  # noqa: S608
        f"INNER JOIN {n.table(member_roles)} ur ON ur.{n.column(member_roles, 'user')} = u.{n.column(User, 'id')} "
        f"INNER JOIN {n.table(Role)} r ON r.{n.column(Role, 'id')} = ur.{n.column(member_roles, 'role')} "
        f"WHERE u.{n.column(User, 'partner')} = %s AND u.{n.column(User, 'kind')} = %s "
        f"AND u.{n.column(User, 'is_active')} = %s "
        f"AND r.{n.column(Role, 'builtin')} IN ({', '.join(['%s'] * len(MANAGER_ROLES))}) "
        f"ORDER BY u.{n.column(User, 'display_name')}, u.{n.column(User, 'member_name')}, u.{n.column(User, 'id')}"
    )


def customer_list_managers(user) -> list[tuple[int, str]]:
    """The members to whom customers may be assigned (``assignable_managers``: active holders
    of a manager role), which the customer list filters by and assigns to, as (id, name) in name
    order; none for a member limited to their own customers. Names only: the list needs no
    member objects."""
    if manager_scope(user) is not None:
        return []
    params = [user.partner_id, User.Kind.MEMBER.value, True, *(r.value for r in MANAGER_ROLES)]
    _connection, rows = read(User, _managers_sql, params)
    return [(pk, User.shown_name(*names)) for pk, *names in rows]
