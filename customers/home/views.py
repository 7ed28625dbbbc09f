"""The partner home at ``/``: what waits for the member, the partner's figures and charts.

Each block is read only when the member's permissions allow it (the same permission as the
page it links to), and through ``customers.home.selectors``, scoped like those pages."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from customers.home import selectors as dashboard
from customers.models import AssociationRequest, LedgerEntry

RECORD_DAYS = 30


@dataclass(frozen=True, slots=True)
class Todo:
    """One line of the To do block. ``group`` orders the blocks: what happens by itself at
    the deadline (0), standing problems (1), what becomes possible again (2); within a group
    the earliest ``due`` first."""

    kind: str
    group: int
    due: datetime | None
    url: str
    subject: str = ""
    detail: str = ""
    count: int = 0
    estimate: bool = False


def _todos(user, *, now, can) -> tuple[list[Todo], dict]:
    todos: list[Todo] = []
    more = {}
    requests = dashboard.open_requests(
        user,
        dissociations=can("customers.handle_dissociation"),
        partner_requests=can("customers.view_customer"),
        now=now,
    )
    dissociations = [r for r in requests if r.waits_on_partner]
    waiting = [r for r in requests if not r.waits_on_partner]
    more["dissociations"] = len(dissociations) > dashboard.TODO_ROWS
    more["waiting"] = len(waiting) > dashboard.TODO_ROWS
    kinds = dict(AssociationRequest.Kind.choices)
    for r in dissociations[: dashboard.TODO_ROWS]:
        url = reverse("customers:request_detail", args=[r.id])
        todos.append(Todo("dissociation", 0, r.deadline, url, r.customer_name, r.customer_account))
    for r in waiting[: dashboard.TODO_ROWS]:
        url = reverse("customers:request_detail", args=[r.id])
        todos.append(Todo(f"waiting_{r.kind}", 0, r.deadline, url, r.customer_name, str(kinds[r.kind])))
    if can("customers.invite_customers"):
        invitations = dashboard.expiring_invitations(user, now=now)
        more["invitations"] = len(invitations) > dashboard.TODO_ROWS
        for i in invitations[: dashboard.TODO_ROWS]:
            url = reverse("customers:invitation_resend", args=[i.id])
            todos.append(Todo("invitation", 0, i.expires_at, url, i.email, i.name))
    figures = {}
    if can("customers.view_customer"):
        figures = dashboard.customer_figures(user)
        for status in ("arrears", "frozen"):
            figure = figures[status]
            if figure.count:
                url = f"{reverse('customers:list')}?{urlencode({'status': status})}"
                todos.append(Todo(status, 1, None, url, count=figure.count, estimate=figure.estimate))
        for c in dashboard.ending_cooldowns(user, now=now):
            url = reverse("customers:detail", args=[c.customer_id])
            todos.append(Todo("cooldown", 2, c.ends_at, url, c.customer_name, c.customer_account))
    todos.sort(key=lambda t: (t.group, t.due or now))
    return todos, {"more": more, "customer_figures": figures}


def _month_labels(months) -> list[str]:
    return [formats.date_format(m, "YEAR_MONTH_FORMAT") for m in months]


def chart_data(user, *, now, funds: bool, associations: bool) -> dict:
    """The charts' numbers, read on every visit: from the per-day counts the database keeps
    (``customers.models.PartnerDayCount``), so they follow every change at once."""
    months = dashboard.chart_months(now)
    return {"months": months, **dashboard.chart_numbers(user, months, now=now, associations=associations, funds=funds)}


def _charts(user, *, now, can) -> list[dict]:
    """Each chart as the data its canvas and its table alternative share."""
    data = chart_data(
        user,
        now=now,
        funds=can("customers.allocate_funds") or can("customers.recover_funds"),
        associations=can("customers.view_customer"),
    )
    labels = _month_labels(data["months"])
    charts = []
    if "associations" in data:
        charts.append({
            "id": "chart-associations", "type": "bar", "title": _("New and ended associations per month"),
            "labels": labels, "series": [
                {"label": _("New associations"), "values": data["associations"]["new"]},
                {"label": _("Ended associations"), "values": data["associations"]["ended"]},
            ],
        })
    if "funds" in data:
        charts.append({
            "id": "chart-funds", "type": "line", "title": _("Funds allocated and recovered per month"),
            "labels": labels, "money": True, "series": [
                {"label": str(LedgerEntry.Kind.ALLOCATION.label), "values": data["funds"]["allocated"]},
                {"label": _("Recovered or returned"), "values": data["funds"]["recovered"]},
            ],
        })
    if "requests" in data:
        outcomes = data["requests"]
        statuses = dict(AssociationRequest.Status.choices)
        charts.append({
            "id": "chart-requests", "type": "doughnut", "title": _("Requests of the last 12 months by outcome"),
            "labels": [str(statuses[key]) for key in outcomes], "series": [
                {"label": _("Requests"), "values": list(outcomes.values())},
            ],
        })
    for chart in charts:
        chart["rows"] = list(zip(chart["labels"], *(s["values"] for s in chart["series"]), strict=True))
        chart["empty"] = not any(v for s in chart["series"] for v in s["values"])
    return charts


def partner_home(request):
    """The member's workspace (``partnercenter.views.home`` sends members here)."""
    user = request.user
    now = timezone.now()
    can = user.has_perm
    todos, context = _todos(user, now=now, can=can)
    since = now - timedelta(days=RECORD_DAYS)
    if can("audit.view_operationrecord"):
        context["records_figure"] = dashboard.recent_records_figure(user, since=since)
        context["records_url"] = f"{reverse('audit:list')}?{urlencode({'date_from': since.date().isoformat()})}"
    charts = _charts(user, now=now, can=can)
    return render(
        request,
        "home/partner_home.html",
        {
            "todos": todos,
            "charts": charts,
            "chart_data": [
                {"id": c["id"], "type": c["type"], "labels": c["labels"], "money": c.get("money", False),
                 "series": c["series"]}
                for c in charts
            ],
            "partner": user.partner,
            "record_days": RECORD_DAYS,
            "now": now,
            **context,
        },
    )
