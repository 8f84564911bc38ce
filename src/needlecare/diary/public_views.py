"""The clinic's public page where a new patient asks for a consultation (no sign-in)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from needlecare.access import client_ip
from needlecare.diary import requests
from needlecare.diary.requests import RequestDetails
from needlecare.errors import ServiceError
from needlecare.page_actions import refusal, show_refusal
from needlecare.ratelimits.counting import RateLimited


class RequestForm(forms.Form):
    given_name = forms.CharField(label=_("First name"), max_length=100,
                                 widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    family_name = forms.CharField(label=_("Last name"), max_length=100,
                                  widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date",
                                                                  "autocomplete": "bday"}))
    phone = forms.CharField(label=_("Mobile phone"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
    email = forms.EmailField(label=_("Email"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    preferred_times = forms.CharField(
        label=_("Days and times that suit you"), max_length=300, required=False,
        help_text=_("For example: weekday mornings, or Thursdays after 4 pm."))
    message = forms.CharField(label=_("Anything you would like us to know (optional)"),
                              max_length=1000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    agrees_to_messages = forms.BooleanField(
        label=_("Send me messages about my appointments (text or email)"), required=False)
    # Never shown to people (hidden by CSS and from screen readers); bots fill it in.
    website = forms.CharField(required=False, label=_("Leave this empty"))
    stamp = forms.CharField(widget=forms.HiddenInput)


@require_http_methods(["GET", "POST"])
def request_consultation(request: HttpRequest, slug: str) -> HttpResponse:
    clinic = requests.public_clinic(slug)
    form = RequestForm(request.POST or None, initial={"stamp": requests.form_stamp()})
    status, retry_after = 200, None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            requests.request_consultation(slug, RequestDetails(
                given_name=data["given_name"], family_name=data["family_name"],
                date_of_birth=data["date_of_birth"], phone=data["phone"], email=data["email"],
                preferred_times=data["preferred_times"], message=data["message"],
                agrees_to_messages=data["agrees_to_messages"]),
                stamp=data["stamp"], honeypot=data["website"], ip=client_ip(request))
        except RateLimited as exc:
            show_refusal(form, exc)
            status, retry_after = 429, exc.retry_after
        except ServiceError as exc:
            show_refusal(form, refusal(exc))
            if exc.code in ("too_fast", "form_expired"):
                form.data = form.data.copy()
                form.data["stamp"] = requests.form_stamp()
        else:
            return redirect("public-booking-thanks", slug=slug)
    response = render(request, "diary/public/request.html", {"clinic": clinic, "form": form},
                      status=status)
    response["Cache-Control"] = "no-store"
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@require_GET
def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    clinic = requests.public_clinic(slug)
    return render(request, "diary/public/thanks.html", {"clinic": clinic})
