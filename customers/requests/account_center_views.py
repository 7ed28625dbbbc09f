"""Account Center request pages: *Handle now* on a partner's switch or unbind (the notes, the
account check from the customer's side, consent, agree or reject), the customer's own
dissociation request (check, notes, consent, reason, submit; cancel while pending)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from customers.checks import Action, failure_message, run_checks
from customers.models import AssociationRequest
from customers.requests import services as services
from customers.requests.forms import CancelForm, ConfirmForm, RejectForm, RequestSubmitForm
from customers.requests.selectors import open_request_for
from customers.requests.views import handle_request
from partnercenter.access import customer_required
from partnercenter.actions import form_action

Kind = AssociationRequest.Kind
Status = AssociationRequest.Status


def _association_request(request, pk) -> AssociationRequest:
    return services.request_for_customer_settled(request.user.customer, pk)


def _handle_page(request, association_request, *, agree_form=None, reject_form=None, cancel_form=None):
    association = association_request.association
    posted = agree_form or reject_form or cancel_form
    context = {
        "association_request": association_request,
        "association": association,
        "failures": [failure_message(code) for code in association_request.failure_codes],
        # A request handled meanwhile has no forms left to show the refusal on.
        "refusals": posted.non_field_errors() if posted and association_request.status != Status.PENDING else [],
    }
    if association_request.status == Status.PENDING:
        if association_request.kind in services.PARTNER_KINDS:
            context["effects"] = services.request_effects(
                association=association, kind=association_request.kind, to_customer=True
            )
            context["results"] = run_checks(
                association=association, action=association_request.kind, handling=association_request,
                to_customer=True,
            )
            context["agree_form"] = agree_form or ConfirmForm(
                association=association, action=association_request.kind, handling=association_request,
                to_customer=True,
            )
            context["reject_form"] = reject_form or RejectForm(association_request=association_request)
            # A reason entered to reject keeps the rejection open after a refused post.
            context["reject_open"] = reject_form is not None
        else:
            context["cancel_form"] = cancel_form or CancelForm(association_request=association_request)
    return render(request, "account_center/requests/handle.html", context)


@require_GET
@customer_required
def request_handle(request, pk):
    return _handle_page(request, _association_request(request, pk))


@require_POST
@customer_required
def request_agree(request, pk):
    association_request = _association_request(request, pk)
    form = ConfirmForm(
        request.POST,
        association=association_request.association,
        action=association_request.kind,
        handling=association_request,
        to_customer=True,
    )
    return handle_request(
        request,
        association_request,
        form,
        service=services.request_confirm,
        success=_agreed(association_request),
        done=lambda _result: redirect("account_center:home"),
        page=lambda: _handle_page(request, association_request, agree_form=form),
    )


def _agreed(association_request) -> str:
    """What the customer is told after agreeing: what changes for them from now on."""
    if association_request.kind != Kind.SWITCH:
        return _(
            "You agreed. Your account is no longer associated with this partner: top up and set a payment "
            "method so that your services are not stopped."
        )
    if association_request.target_type == "reseller":
        return _("You agreed. From now on your partner funds your account and invoices you.")
    return _("You agreed. From now on you pay the vendor directly and invoice yourself.")


@require_POST
@customer_required
def request_reject(request, pk):
    association_request = _association_request(request, pk)
    form = RejectForm(request.POST, association_request=association_request)
    return handle_request(
        request,
        association_request,
        form,
        service=services.request_reject,
        success=_("You rejected the request. Nothing changes; your partner is notified."),
        done=lambda _result: redirect("account_center:home"),
        page=lambda: _handle_page(request, association_request, reject_form=form),
    )


@require_POST
@customer_required
def request_cancel(request, pk):
    association_request = _association_request(request, pk)
    form = CancelForm(request.POST, association_request=association_request)
    return handle_request(
        request,
        association_request,
        form,
        service=services.request_cancel,
        success=_("Your dissociation request is cancelled."),
        done=lambda _result: redirect("account_center:home"),
        page=lambda: _handle_page(request, association_request, cancel_form=form),
    )


def _dissociation_association(request):
    return services.customer_association_settled(request.user.customer)


def _dissociate_page(request, association, form):
    results = run_checks(association=association, action=Action.DISSOCIATION, to_customer=True)
    return render(
        request,
        "account_center/requests/dissociate.html",
        {
            "association": association,
            "results": results,
            "passed": all(r.passed for r in results),
            "open_request": open_request_for(association),
            "effects": services.request_effects(association=association, kind=Kind.DISSOCIATION, to_customer=True),
            "form": form,
            "deadline_days": services.valid_days(),
        },
    )


@require_GET
@customer_required
def dissociate(request):
    association = _dissociation_association(request)
    if association is None:
        messages.info(request, _("Your account is not associated with any partner."))
        return redirect("account_center:home")
    form = RequestSubmitForm(association=association, action=Action.DISSOCIATION, to_customer=True)
    return _dissociate_page(request, association, form)


@require_POST
@customer_required
def dissociate_submit(request):
    association = _dissociation_association(request)
    if association is None:
        messages.error(request, _("Your account is not associated with any partner. Nothing was changed."))
        return redirect("account_center:home")
    form = RequestSubmitForm(request.POST, association=association, action=Action.DISSOCIATION, to_customer=True)
    return form_action(
        request,
        form,
        act=lambda data: services.request_submit_dissociation(
            actor=request.user, association=association, reason=data["reason"]
        ),
        success=lambda association_request: (
            _(
                "Dissociation request submitted. Your partner is notified and answers by %(deadline)s; without "
                "an answer it is approved automatically if the account check still passes."
            )
            % {"deadline": services.format_moment(association_request.deadline)}
        ),
        done=lambda association_request: redirect("account_center:request_handle", association_request.pk),
        page=lambda: _dissociate_page(request, association, form),
    )
