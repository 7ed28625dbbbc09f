"""Partner-side request pages: for switch and unbind, the account check → the notes with consent
and reason → the submitted request; a request's page (cancel a switch or unbind; approve or
reject a customer's dissociation); and the requests inbox."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from customers.checks import Action, failure_message, run_checks
from customers.models import Association, AssociationRequest
from customers.requests import services as services
from customers.requests.forms import CancelForm, ConfirmForm, InboxFilterForm, RejectForm, RequestSubmitForm
from customers.requests.selectors import listed_request, request_listing, requests_for_member
from customers.rows import request_rows_context
from organization.protection import operation_protected
from partnercenter.access import member_permission_required
from partnercenter.actions import form_action
from partnercenter.pagination import filter_data, list_page

Kind = AssociationRequest.Kind
Status = AssociationRequest.Status

SUBMIT_PERMISSION = services.SUBMIT_PERMISSION


def _association(request, pk) -> Association:
    """The member's own active association with customer ``pk`` (404 otherwise), after
    settling its overdue request, which may have ended it."""
    return services.own_association_settled(request.user, pk)


def _association_request(request, request_pk) -> AssociationRequest:
    return services.request_for_member_settled(request.user, request_pk)


# Switch and unbind: check → notes → submit ----------------------------------------------------


def _check_page(request, pk, kind):
    now = timezone.now()
    association, pending = services.own_association_and_pending(request.user, pk, now)
    results = run_checks(association=association, action=kind, now=now)
    return render(
        request,
        "customers/requests/check.html",
        {
            "association": association,
            "customer": association.customer,
            "kind": kind,
            "kind_label": Kind(kind).label,
            "results": results,
            "passed": all(r.passed for r in results),
            "open_request": pending.open_request(now),
        },
    )


def _notes_page(request, association, kind, form, *, status=200):
    return render(
        request,
        "customers/requests/notes.html",
        {
            "association": association,
            "customer": association.customer,
            "kind": kind,
            "kind_label": Kind(kind).label,
            "target_label": _type_label(services.target_type_for(association, kind)),
            "effects": services.request_effects(association=association, kind=kind),
            "form": form,
            "deadline_days": services.valid_days(),
        },
        status=status,
    )


def _type_label(association_type: str) -> str:
    return Association.Type(association_type).label if association_type else ""


def _notes(request, pk, kind):
    association = _association(request, pk)
    form = RequestSubmitForm(association=association, action=kind)
    if not all(r.passed for r in run_checks(association=association, action=kind)):
        messages.warning(request, _("The account check does not pass yet: see what must be done first."))
        return redirect(f"customers:{kind}_check", pk)
    return _notes_page(request, association, kind, form)


def _submit(request, pk, kind):
    association = _association(request, pk)
    form = RequestSubmitForm(request.POST, association=association, action=kind)
    return form_action(
        request,
        form,
        act=lambda data: services.request_submit(
            actor=request.user, association=association, kind=kind, reason=data["reason"]
        ),
        success=lambda association_request: (
            _("Request submitted. The customer is notified by e-mail and can agree or reject until %(deadline)s.")
            % {"deadline": services.format_moment(association_request.deadline)}
        ),
        done=lambda association_request: redirect("customers:request_detail", association_request.pk),
        page=lambda: _notes_page(request, association, kind, form),
    )


def handle_request(request, association_request, form, *, service, **flow):
    """Handling a request with a reason, on either side (the partner cancels, approves or
    rejects; the customer agrees, rejects or cancels): ``form_action`` calling ``service`` with
    the member or customer, the request and the form's reason."""
    return form_action(
        request,
        form,
        act=lambda data: service(actor=request.user, association_request=association_request, reason=data["reason"]),
        **flow,
    )


@require_GET
@member_permission_required("customers.switch_association")
def switch_check(request, pk):
    return _check_page(request, pk, Kind.SWITCH)


@require_GET
@member_permission_required("customers.switch_association")
def switch_notes(request, pk):
    return _notes(request, pk, Kind.SWITCH)


@require_POST
@member_permission_required("customers.switch_association")
@operation_protected
def switch_submit(request, pk):
    return _submit(request, pk, Kind.SWITCH)


@require_GET
@member_permission_required("customers.unbind_association")
def unbind_check(request, pk):
    return _check_page(request, pk, Kind.UNBIND)


@require_GET
@member_permission_required("customers.unbind_association")
def unbind_notes(request, pk):
    return _notes(request, pk, Kind.UNBIND)


@require_POST
@member_permission_required("customers.unbind_association")
@operation_protected
def unbind_submit(request, pk):
    return _submit(request, pk, Kind.UNBIND)


# One request ------------------------------------------------------------------------------------


def _detail_page(request, association_request, *, cancel_form=None, approve_form=None, reject_form=None):
    user = request.user
    association = association_request.association
    posted = cancel_form or approve_form or reject_form
    context = {
        "association_request": association_request,
        "association": association,
        "customer": association.customer,
        "failures": [failure_message(code) for code in association_request.failure_codes],
        # A request handled meanwhile has no forms left to show the refusal on.
        "refusals": posted.non_field_errors() if posted and association_request.status != Status.PENDING else [],
    }
    if association_request.status == Status.PENDING:
        if association_request.kind in services.PARTNER_KINDS:
            if user.has_perm(SUBMIT_PERMISSION[association_request.kind]):
                context["cancel_form"] = cancel_form or CancelForm(association_request=association_request)
        elif user.has_perm("customers.handle_dissociation"):
            context["effects"] = services.request_effects(association=association, kind=association_request.kind)
            context["results"] = run_checks(
                association=association, action=Action.APPROVAL, handling=association_request
            )
            context["approve_form"] = approve_form or ConfirmForm(
                association=association, action=Action.APPROVAL, handling=association_request
            )
            context["reject_form"] = reject_form or RejectForm(association_request=association_request)
    return render(request, "customers/requests/detail.html", context)


@require_GET
@member_permission_required("customers.view_customer")
def request_detail(request, request_pk):
    return _detail_page(request, _association_request(request, request_pk))


@require_POST
@member_permission_required("customers.view_customer")
def request_cancel(request, request_pk):
    association_request = _association_request(request, request_pk)
    permission = SUBMIT_PERMISSION.get(association_request.kind)
    if permission is None or not request.user.has_perm(permission):
        raise PermissionDenied
    form = CancelForm(request.POST, association_request=association_request)
    return handle_request(
        request,
        association_request,
        form,
        service=services.request_cancel,
        success=_("Request cancelled. The customer is notified by e-mail."),
        done=lambda _result: redirect("customers:request_detail", association_request.pk),
        page=lambda: _detail_page(request, association_request, cancel_form=form),
    )


@require_POST
@member_permission_required("customers.handle_dissociation")
@operation_protected
def request_approve(request, request_pk):
    association_request = _association_request(request, request_pk)
    form = ConfirmForm(
        request.POST, association=association_request.association, action=Action.APPROVAL, handling=association_request
    )
    return handle_request(
        request,
        association_request,
        form,
        service=services.request_approve,
        success=_("Dissociation approved: the association has ended. The customer is notified."),
        done=lambda _result: redirect("customers:request_detail", association_request.pk),
        page=lambda: _detail_page(request, association_request, approve_form=form),
    )


@require_POST
@member_permission_required("customers.handle_dissociation")
def request_reject(request, request_pk):
    association_request = _association_request(request, request_pk)
    form = RejectForm(request.POST, association_request=association_request)
    return handle_request(
        request,
        association_request,
        form,
        service=services.request_reject,
        success=_("Dissociation rejected. The customer is notified."),
        done=lambda _result: redirect("customers:request_detail", association_request.pk),
        page=lambda: _detail_page(request, association_request, reject_form=form),
    )


# The inbox --------------------------------------------------------------------------------------


@require_GET
@member_permission_required("customers.handle_dissociation")
def request_inbox(request):
    user = request.user
    services.request_expire_due(partner=user.partner, limit=settings.PARTNER_CENTER["PAGE_SIZE"])
    form = InboxFilterForm(filter_data(request))
    filters = form.filters()
    qs = requests_for_member(user)
    qs = qs.none() if filters is None else qs.filter(**filters)
    listed = list_page(
        request, queryset=qs, listing=request_listing(qs), row=listed_request, ordering=["-id"],
        scope=f"requests:{user.partner_id}", form=form, filters=filters,
    )
    context = listed.context(list_url=reverse("customers:request_inbox"), row_context=request_rows_context(request))
    return render(request, "customers/requests/inbox.html", context)
