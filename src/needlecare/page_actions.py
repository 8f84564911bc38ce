"""What a page does with a service: call it, show a refusal where it belongs, or go on.

Every form post in the clinic's pages follows one pattern: validate the form, call one
service, and then either put the service's refusal next to the field it is about (or above
the form) and show the page again, or say what happened and redirect. A refusal of access
(not found, forbidden) is not a message on a form: it goes on to the 404 or 403 page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from needlecare.errors import ACCESS_KINDS, ServiceError

R = TypeVar("R")


def show_refusal(form: forms.Form, error: ServiceError) -> None:
    """Put a service's refusal next to the field it is about, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _show_on_page(request: HttpRequest, form: forms.Form, error: ServiceError) -> None:
    # A refusal about a field goes next to it; any other (the record changed, it is closed
    # already) goes at the top of the page, which shows it even when the form is no longer
    # there (a closed escalation has no close form).
    if error.field in form.fields:
        form.add_error(error.field, error.message)
    else:
        messages.error(request, error.message)


def refusal(error: ServiceError) -> ServiceError:
    """``error``, for a view that shows it itself; access refusals go on to the 404 or 403
    page instead (call it first thing in ``except ServiceError``)."""
    if error.kind in ACCESS_KINDS:
        raise error
    return error


def submit(request: HttpRequest, call: Callable[[], R], *,
           done: str | Callable[[R], HttpResponse], done_message: str | None = None,
           form: forms.Form | None = None,
           show_again: Callable[[], HttpResponse] | None = None,
           back: str | None = None) -> HttpResponse:
    """Run ``call`` (a service) for a page and answer the browser.

    With a ``form``: an invalid form, or a refusal, shows the page again through
    ``show_again`` with the problems on the form (a refusal about no field of it at the top
    of the page). Without one (a button), a refusal is a
    message on the page the user is sent ``back`` to (``done`` when it is a URL). On
    success, ``done_message`` is said and the answer is ``done``: a redirect to it when it is
    a URL, else what it makes of the service's result (a redirect, a file)."""
    if form is not None and not form.is_valid():
        assert show_again is not None
        return show_again()
    try:
        result = call()
    except ServiceError as error:
        refusal(error)
        if form is not None and show_again is not None:
            _show_on_page(request, form, error)
            return show_again()
        messages.error(request, error.message)
        target = back if back is not None else done
        assert isinstance(target, str), "a button whose answer depends on the result needs " \
            "a page to go back to"
        return redirect(target)
    if done_message:
        messages.success(request, done_message)
    return done(result) if callable(done) else redirect(done)
