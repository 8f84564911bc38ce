"""Forms for articles, newsletters and the public sign-up. The services check the rules;
these only parse what was typed."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from needlecare.clinical.vocabulary import INDICATIONS
from needlecare.education.articles import ArticleDraft, sources_text
from needlecare.education.models import ArticleVersion, Campaign, Stage
from needlecare.education.newsletter import CampaignDraft
from needlecare.education.rules import Segment

ROMAN = ["I", "II", "III", "IV", "V", "VI"]
_INDICATIONS = [(code, term.display) for code, term in INDICATIONS.items()]


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), max_length=300,
                              help_text=_("One or two sentences: shown in lists, the feed "
                                          "and search results."),
                              widget=forms.Textarea(attrs={"rows": 2}))
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 18}),
                           max_length=ArticleVersion._meta.get_field("body").max_length,
                           help_text=_("Markdown: ## for a heading, - for a list, "
                                       "[words](https://…) for a link. HTML is shown as "
                                       "text."))
    clinical = forms.BooleanField(label=_("Clinical content: a clinician reviews it before "
                                          "it is published"), required=False, initial=True)
    sources = forms.CharField(label=_("Sources"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("One per line: a reference key (for example "
                                          "minutilli2024) or a citation with its link."))
    topics = forms.CharField(label=_("Topics"), required=False, max_length=400,
                             help_text=_("Separated by commas, e.g. aftercare, sun."))
    stage = forms.ChoiceField(label=_("Stage of care"), required=False,
                              choices=[("", _("Not timed")), *list(Stage.choices)],
                              help_text=_("Shown to patients at this stage under “For you "
                                          "now”, and sent to those who asked for reading."))
    indication = forms.ChoiceField(label=_("Only for patients treated for"), required=False,
                                   choices=[("", _("Any indication")), *_INDICATIONS])
    skin_types = forms.TypedMultipleChoiceField(
        label=_("Only for skin types"), required=False, coerce=int,
        widget=forms.CheckboxSelectMultiple,
        choices=[(n, _("Type %(roman)s") % {"roman": ROMAN[n - 1]}) for n in range(1, 7)],
        help_text=_("None ticked: any skin type."))
    image = forms.FileField(label=_("Image"), required=False,
                            help_text=_("JPEG, PNG, WebP or HEIC; its metadata (location, "
                                        "camera) is removed."))
    image_alt = forms.CharField(label=_("Image description"), required=False, max_length=200,
                                help_text=_("What the image shows, for people who cannot see "
                                            "it."))
    remove_image = forms.BooleanField(label=_("Remove the image"), required=False)

    @classmethod
    def initial_for(cls, version: ArticleVersion) -> dict[str, Any]:
        article = version.article
        return {"title": version.title, "summary": version.summary, "body": version.body,
                "clinical": version.clinical, "sources": sources_text(version.sources),
                "topics": ", ".join(version.topics), "stage": article.stage,
                "indication": article.indication, "skin_types": article.skin_types,
                "image_alt": version.image_alt}

    def draft(self) -> ArticleDraft:
        data = self.cleaned_data
        upload = data.get("image")
        return ArticleDraft(
            title=data["title"], summary=data["summary"], body=data["body"],
            topics=tuple(t for t in data["topics"].split(",") if t.strip()),
            sources=data["sources"], clinical=data["clinical"], stage=data["stage"],
            indication=data["indication"], skin_types=tuple(data["skin_types"]),
            image=upload.read() if upload else None, image_alt=data["image_alt"],
            remove_image=data["remove_image"])


class ReviewForm(forms.Form):
    note = forms.CharField(label=_("Note to the editor"), required=False,
                           max_length=ArticleVersion._meta.get_field("review_note").max_length,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Needed when you send it back: say what to change."))


class CampaignForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=150)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 14}),
                           max_length=Campaign._meta.get_field("body").max_length,
                           help_text=_("Markdown. Sent as plain text; no images, no "
                                       "tracking pixel."))
    audience = forms.ChoiceField(label=_("Send to"), choices=[
        ("everyone", _("Everyone subscribed (patients and the public)")),
        ("patients", _("Patients only")), ("public", _("Public subscribers only"))])
    treated_only = forms.BooleanField(label=_("Only patients who have had a session"),
                                      required=False)
    course_ended_months = forms.IntegerField(
        label=_("Only patients whose course ended more than … months ago"), required=False,
        min_value=0, max_value=120)
    indication = forms.ChoiceField(label=_("Only patients treated for"), required=False,
                                   choices=[("", _("Any indication")), *_INDICATIONS])
    stages = forms.MultipleChoiceField(label=_("Only patients at these stages"),
                                       required=False, choices=Stage.choices,
                                       widget=forms.CheckboxSelectMultiple)

    @classmethod
    def initial_for(cls, subject: str, body: str, segment: dict[str, Any]) -> dict[str, Any]:
        return {"subject": subject, "body": body, **segment}

    def draft(self) -> CampaignDraft:
        data = self.cleaned_data
        return CampaignDraft(subject=data["subject"], body=data["body"], segment=Segment(
            audience=data["audience"], treated_only=data["treated_only"],
            course_ended_months=data["course_ended_months"], indication=data["indication"],
            stages=tuple(data["stages"])))


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=_("Send at (clinic time)"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                   format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("Empty: now."))

    def when(self, time_zone: str) -> dt.datetime | None:
        value = self.cleaned_data.get("send_at")
        if value is None:
            return None
        return value.replace(tzinfo=ZoneInfo(time_zone)) if value.tzinfo is None else value


class SettingsForm(forms.Form):
    count_link_clicks = forms.BooleanField(
        label=_("Count clicks on newsletter links"), required=False,
        help_text=_("Off by default. Links then go through this site, which counts clicks per "
                    "link, never who clicked. Opens are never tracked."))
    send_rate_per_minute = forms.IntegerField(
        label=_("Newsletter emails per minute at most"), min_value=1, max_value=600,
        help_text=_("Keep within what your email provider allows."))


class SubscribeForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"),
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    adult = forms.BooleanField(label=_("I am 18 or older"), required=True)
