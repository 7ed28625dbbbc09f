"""The one flow of a page whose form starts a business action, shared by the partner portal and
the Account Center: a valid form runs the service; a refused rule (``ValidationError``) comes
back as a form error on the same page; success is a message and a redirect."""

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
