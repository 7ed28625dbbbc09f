"""Organization › Webhooks: the partner's endpoints, each with its delivery log. A member with
*manage webhooks* registers, edits, disables and enables, rotates the secret of (shown once, on
the answer to that POST), deletes and tests an endpoint, and redelivers an event."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partnercenter.access import member_permission_required
from partnercenter.actions import form_page, post_action, posted
from partnercenter.pagination import list_page
from webhooks import services
from webhooks.forms import EndpointForm
from webhooks.rows import delivery_rows_context
from webhooks.selectors import deliveries_of, delivery_for_member, endpoint_for, endpoints_of

MANAGE = "webhooks.manage_webhooks"
ORDERING = ["-id"]


@require_GET
@member_permission_required(MANAGE)
def endpoint_list(request):
    endpoints = endpoints_of(request.user).order_by("-id")
    return render(request, "webhooks/endpoint_list.html", {"endpoints": endpoints})


def _secret_page(request, endpoint, secret, *, created: bool):
    return render(request, "webhooks/endpoint_secret.html",
                  {"endpoint": endpoint, "secret": secret, "created": created})


@never_cache
@require_http_methods(["GET", "POST"])
@member_permission_required(MANAGE)
def endpoint_create(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint, secret = services.endpoint_create(
                actor=request.user, url=data["url"], description=data["description"],
                all_events=data["all_events"], events=data["events"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _secret_page(request, endpoint, secret, created=True)
    status = 400 if request.method == "POST" else 200
    return render(request, "webhooks/endpoint_form.html", {"form": form}, status=status)


@require_GET
@member_permission_required(MANAGE)
def endpoint_detail(request, pk):
    endpoint = endpoint_for(request.user, pk)
    listed = list_page(request, queryset=deliveries_of(endpoint), ordering=ORDERING,
                       scope=f"webhook-deliveries:{request.user.partner_id}:{endpoint.pk}")
    context = listed.context(endpoint=endpoint, row_context=delivery_rows_context(request))
    return render(request, "webhooks/endpoint_detail.html", context)


@require_http_methods(["GET", "POST"])
@member_permission_required(MANAGE)
def endpoint_edit(request, pk):
    endpoint = endpoint_for(request.user, pk)
    form = EndpointForm.of(endpoint, posted(request))
    return form_page(
        request, form,
        act=lambda data: services.endpoint_update(
            actor=request.user, endpoint=endpoint, url=data["url"], description=data["description"],
            all_events=data["all_events"], events=data["events"]),
        success=_("The webhook endpoint is saved."),
        done=lambda result: redirect("webhooks:detail", endpoint.pk),
        page=lambda: render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint},
                            status=400 if form.is_bound else 200),
    )


def _endpoint_action(request, pk, service, success):
    """A button on the endpoint's page: ``service`` on the member's endpoint, back to its page."""
    endpoint = endpoint_for(request.user, pk)
    return post_action(request, act=lambda: service(actor=request.user, endpoint=endpoint), success=success,
                       done=lambda: redirect("webhooks:detail", endpoint.pk))


@require_POST
@member_permission_required(MANAGE)
def endpoint_disable(request, pk):
    return _endpoint_action(request, pk, services.endpoint_disable,
                            _("The webhook endpoint is disabled: no new events are sent to it."))


@require_POST
@member_permission_required(MANAGE)
def endpoint_enable(request, pk):
    return _endpoint_action(request, pk, services.endpoint_enable, _("The webhook endpoint is enabled."))


@require_POST
@member_permission_required(MANAGE)
def endpoint_test(request, pk):
    return _endpoint_action(request, pk, services.endpoint_send_test,
                            _("A test event is on its way; its delivery is at the top of the log."))


@never_cache
@require_POST
@member_permission_required(MANAGE)
def endpoint_rotate_secret(request, pk):
    endpoint = endpoint_for(request.user, pk)
    try:
        endpoint, secret = services.endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("webhooks:detail", endpoint.pk)
    return _secret_page(request, endpoint, secret, created=False)


@require_POST
@member_permission_required(MANAGE)
def endpoint_delete(request, pk):
    endpoint = endpoint_for(request.user, pk)
    try:
        services.endpoint_delete(actor=request.user, endpoint=endpoint)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("webhooks:detail", endpoint.pk)
    messages.success(request, _("The webhook endpoint %(url)s is deleted.") % {"url": endpoint.url})
    return redirect("webhooks:list")


@require_POST
@member_permission_required(MANAGE)
def delivery_redeliver(request, pk):
    delivery = delivery_for_member(request.user, pk)
    return post_action(request, act=lambda: services.delivery_redeliver(actor=request.user, delivery=delivery),
                       success=_("The event is sent again, with the same webhook-id."),
                       done=lambda: redirect("webhooks:detail", delivery.endpoint_id))
