"""The one flow of a page whose form starts a business action, shared by the partner portal and
the Account Center: a valid form runs the service; a refused rule (``ValidationError``) comes
back as a form error on the same page; success is a message and a redirect. ``form_page`` is
the same for a view that shows its form on GET and submits it by POST to the same URL."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse


def form_action(
    request,
    form,
    *,
    act: Callable[[dict], object],
    success: str | Callable[[object], str],
    done: Callable[[object], HttpResponse],
    page: Callable[[], HttpResponse],
) -> HttpResponse:
    """``act(cleaned_data)`` calls the service; ``success`` is the message (or makes it from the
    service's result), ``done`` the redirect after success, ``page`` the page shown again with
    the form and its errors."""
    if form.is_valid():
        try:
            result = act(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, success(result) if callable(success) else success)
            return done(result)
    return page()


def posted(request):
    """The submitted data, or None on GET. Not ``request.POST or None``: a form of one unticked
    checkbox submits nothing and must still count as submitted."""
    return request.POST if request.method == "POST" else None


def form_page(request, form, **flow) -> HttpResponse:
    """``flow["page"]()`` on GET (``form`` bound to ``posted(request)``, so unbound);
    ``form_action(request, form, **flow)`` on POST."""
    if request.method != "POST":
        return flow["page"]()
    return form_action(request, form, **flow)


def post_action(
    request,
    *,
    act: Callable[[], object],
    success: str | Callable[[object], str],
    done: Callable[[], HttpResponse],
) -> HttpResponse:
    """A button's POST (no form to show again): ``act()`` calls the service; success is a
    message, a refused rule an error message for each of its messages; either way ``done()``,
    the redirect back."""
    try:
        result = act()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, success(result) if callable(success) else success)
    return done()
