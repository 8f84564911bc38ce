"""Forms of the clinic-side pages. They parse and check the shape of input; the services check
the business rules (and repeat any check that matters, since the API does not use these forms).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needlecare import clock
from needlecare.accounts.models import Role, User
from needlecare.care import consent_texts
from needlecare.care.models import TreatmentSession, Verdict
from needlecare.care.rules import MAX_DEPTH_MM, ChartData, ZoneRow
from needlecare.clinical import vocabulary as vocab

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                    "%Y-%m-%d %H:%M:%S"]
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}

NOT_ASKED = "not_asked"
YES_NO = [("no", _("No")), ("yes", _("Yes")), (NOT_ASKED, _("Not asked"))]
MEDICATION_ANSWERS = [("no", _("No")), ("current", _("Yes, taking now")),
                      ("stopped", _("Stopped (give the last dose date if known)")),
                      (NOT_ASKED, _("Not asked"))]
PROCEDURE_ANSWERS = [("no", _("No")), ("dated", _("Yes, on the date given")),
                     ("undated", _("Yes, date unknown")), (NOT_ASKED, _("Not asked"))]


def _terms(table: Mapping[str, vocab.Term]) -> list[tuple[str, str]]:
    return [(code, term.display) for code, term in table.items()]


def _reason_field(label: Any, help_text: Any = "") -> forms.CharField:
    return forms.CharField(label=label, help_text=help_text, widget=forms.Textarea(
        attrs={"rows": 3}), min_length=10, max_length=2000, strip=True)


class IntakeForm(forms.Form):
    """The structured intake of a consultation. "Not asked" leaves a question out of the intake,
    so the screening lists it as unanswered (and never calls the patient simply suitable)."""

    assessed_on = forms.DateField(label=_("Date of the consultation"), widget=DATE)
    planned_date = forms.DateField(label=_("Planned date of the first session"), widget=DATE)
    fitzpatrick = forms.TypedChoiceField(
        label=_("Fitzpatrick skin type"), coerce=int, widget=forms.RadioSelect,
        choices=[(int(code), f"{_ROMAN[int(code)]}: {term.definition}")
                 for code, term in vocab.FITZPATRICK.items()],
        help_text=_("Ask how the skin reacts to the sun (burning and tanning). Never infer the "
                    "skin type from appearance or ethnicity."))
    indications = forms.MultipleChoiceField(
        label=_("Indications"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=_terms(vocab.INDICATIONS))
    zones = forms.MultipleChoiceField(
        label=_("Zones to treat"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=_terms(vocab.ZONES),
        help_text=_("Leave empty if not decided: every zone-specific question then counts."))
    device = forms.ChoiceField(
        label=_("Device"), required=False,
        choices=[("", _("Not decided")), *_terms(vocab.DEVICES)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"assessed_on": clock.localdate()})
        super().__init__(*args, **kwargs)
        for prefix, table in (("cond", vocab.CONDITIONS), ("allergy", vocab.ALLERGIES)):
            for code, term in table.items():
                self.fields[f"{prefix}_{code}"] = forms.ChoiceField(
                    label=term.display, help_text=term.definition, choices=YES_NO,
                    widget=forms.RadioSelect, initial=NOT_ASKED)
        for code, term in vocab.MEDICATIONS.items():
            self.fields[f"med_{code}"] = forms.ChoiceField(
                label=term.display, help_text=term.definition, choices=MEDICATION_ANSWERS,
                widget=forms.RadioSelect, initial=NOT_ASKED)
            self.fields[f"med_{code}_last_dose"] = forms.DateField(
                label=_("Last dose of %(name)s") % {"name": term.display}, required=False,
                widget=DATE)
        for code, term in vocab.PROCEDURES.items():
            self.fields[f"proc_{code}"] = forms.ChoiceField(
                label=term.display, help_text=term.definition, choices=PROCEDURE_ANSWERS,
                widget=forms.RadioSelect, initial=NOT_ASKED)
            self.fields[f"proc_{code}_date"] = forms.DateField(
                label=_("Date of the most recent: %(name)s") % {"name": term.display},
                required=False, widget=DATE)

    # Groups for the template (one fieldset each).
    def core_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("assessed_on", "planned_date", "fitzpatrick", "indications",
                                  "zones", "device")]

    def condition_fields(self) -> list[forms.BoundField]:
        return [self[f"cond_{c}"] for c in vocab.CONDITIONS]

    def allergy_fields(self) -> list[forms.BoundField]:
        return [self[f"allergy_{c}"] for c in vocab.ALLERGIES]

    def medication_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"med_{c}"], self[f"med_{c}_last_dose"]) for c in vocab.MEDICATIONS]

    def procedure_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"proc_{c}"], self[f"proc_{c}_date"]) for c in vocab.PROCEDURES]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assessed: dt.date | None = data.get("assessed_on")
        planned: dt.date | None = data.get("planned_date")
        if assessed and assessed > clock.localdate():
            self.add_error("assessed_on", _("The consultation date cannot be in the future."))
        if assessed and planned and planned < assessed:
            self.add_error("planned_date", _("The first session cannot be planned before the "
                                             "consultation."))
        for code in vocab.MEDICATIONS:
            answer, last = data.get(f"med_{code}"), data.get(f"med_{code}_last_dose")
            if last and answer != "stopped":
                self.add_error(f"med_{code}_last_dose", _("Give a last dose date only for a "
                                                          "medicine that was stopped."))
            elif last and assessed and last > assessed:
                self.add_error(f"med_{code}_last_dose", _("The last dose cannot be after the "
                                                          "consultation."))
        for code in vocab.PROCEDURES:
            answer, when = data.get(f"proc_{code}"), data.get(f"proc_{code}_date")
            if answer == "dated" and not when:
                self.add_error(f"proc_{code}_date", _("Give the date, or choose \"Yes, date "
                                                      "unknown\"."))
            elif when and answer != "dated":
                self.add_error(f"proc_{code}_date", _("Give a date only with \"Yes, on the "
                                                      "date given\"."))
            elif when and assessed and when > assessed:
                self.add_error(f"proc_{code}_date", _("The date cannot be after the "
                                                      "consultation."))
        return data

    def intake_answers(self) -> dict[str, Any]:
        """The ``needlecare.intake/1`` document (without the date of birth) from valid data."""
        data = self.cleaned_data

        def yes_no(prefix: str, table: Mapping[str, vocab.Term]) -> dict[str, bool]:
            return {code: data[f"{prefix}_{code}"] == "yes" for code in table
                    if data[f"{prefix}_{code}"] != NOT_ASKED}

        medications: dict[str, Any] = {}
        for code in vocab.MEDICATIONS:
            answer = data[f"med_{code}"]
            if answer == "stopped":
                last = data.get(f"med_{code}_last_dose")
                medications[code] = {"current": False,
                                     "last_dose": last.isoformat() if last else None}
            elif answer != NOT_ASKED:
                medications[code] = answer == "current"
        procedures: dict[str, Any] = {}
        for code in vocab.PROCEDURES:
            answer = data[f"proc_{code}"]
            if answer == "dated":
                procedures[code] = data[f"proc_{code}_date"].isoformat()
            elif answer != NOT_ASKED:
                procedures[code] = answer == "undated"
        return {
            "assessed_on": data["assessed_on"].isoformat(),
            "planned_date": data["planned_date"].isoformat(),
            "fitzpatrick": data["fitzpatrick"],
            "indications": list(data["indications"]),
            "zones": list(data["zones"]),
            "device": data["device"] or None,
            "conditions": yes_no("cond", vocab.CONDITIONS),
            "allergies": yes_no("allergy", vocab.ALLERGIES),
            "medications": medications,
            "procedures": procedures,
        }


class OverrideForm(forms.Form):
    verdict = forms.ChoiceField(label=_("Your verdict"), choices=Verdict.choices)
    reason = _reason_field(_("Reason for the different verdict"),
                           _("Kept with the record beside the screening's own verdict."))


class ConsentForm(forms.Form):
    photo_uses = forms.MultipleChoiceField(
        label=_("I agree to photographs being used for"), required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(k, v) for k, v in consent_texts.PHOTO_USES.items()])
    signed_name = forms.CharField(label=_("Type your full name"), max_length=200,
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    understood = forms.BooleanField(
        label=_("I have read and understood this information"),
        error_messages={"required": _("Tick the box to confirm you have read and understood "
                                      "the text.")})

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == "photos":
            self.fields["photo_uses"].initial = ["clinical_record"]
        else:
            del self.fields["photo_uses"]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=2000)


class AddendumForm(forms.Form):
    text = forms.CharField(label=_("Addendum"), widget=forms.Textarea(attrs={"rows": 4}),
                           max_length=5000)


class PlanForm(forms.Form):
    indications = forms.MultipleChoiceField(
        label=_("Indications"), widget=forms.CheckboxSelectMultiple,
        choices=_terms(vocab.INDICATIONS))
    zones = forms.MultipleChoiceField(
        label=_("Zones"), widget=forms.CheckboxSelectMultiple, choices=_terms(vocab.ZONES))

    def __init__(self, *args: Any, intake: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> None:
        if intake is not None:
            kwargs.setdefault("initial", {"indications": intake.get("indications", []),
                                          "zones": intake.get("zones", [])})
            screened = intake.get("zones") or []
        else:
            screened = []
        super().__init__(*args, **kwargs)
        if screened:
            # Zone-specific screening rules only ran for the zones asked about.
            self.fields["zones"].choices = [(z, vocab.ZONES[z].display) for z in screened
                                            if z in vocab.ZONES]
            self.fields["zones"].help_text = _("Only the zones screened in this consultation.")


class PlanEditForm(forms.Form):
    sessions_planned = forms.IntegerField(label=_("Sessions planned"), min_value=1,
                                          max_value=20)
    interval_days = forms.IntegerField(label=_("Interval between sessions (days)"), min_value=1,
                                       max_value=365)
    reason = _reason_field(_("Reason for the change"),
                           _("Required. Kept in the plan's history with each change."))

    def __init__(self, *args: Any, plan: Any, **kwargs: Any) -> None:
        initial = {"sessions_planned": plan.sessions_planned,
                   "interval_days": plan.interval_days}
        for zone, (low, high) in plan.depth_ranges.items():
            initial[f"min_{zone}"], initial[f"max_{zone}"] = low, high
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.zones = list(plan.depth_ranges)
        for zone in self.zones:
            name = vocab.ZONES[zone].display if zone in vocab.ZONES else zone
            for end, label in (("min", _("%(zone)s: minimum depth (mm)")),
                               ("max", _("%(zone)s: maximum depth (mm)"))):
                self.fields[f"{end}_{zone}"] = forms.DecimalField(
                    label=label % {"zone": name}, min_value=Decimal("0.05"),
                    max_value=MAX_DEPTH_MM, max_digits=3, decimal_places=2,
                    widget=forms.NumberInput(attrs={"step": "0.05"}))
        self.order_fields(["sessions_planned", "interval_days",
                           *(f"{e}_{z}" for z in self.zones for e in ("min", "max")), "reason"])

    def zone_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [(z, self[f"min_{z}"], self[f"max_{z}"]) for z in self.zones]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for zone in self.zones:
            low, high = data.get(f"min_{zone}"), data.get(f"max_{zone}")
            if low is not None and high is not None and low > high:
                self.add_error(f"max_{zone}", _("The maximum must not be below the minimum."))
        return data

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"sessions_planned": data["sessions_planned"],
                "interval_days": data["interval_days"],
                "depth_ranges": {z: [data[f"min_{z}"], data[f"max_{z}"]] for z in self.zones},
                "reason": data["reason"]}


class BookForm(forms.Form):
    scheduled_for = forms.DateTimeField(label=_("Date and time"), widget=DATETIME,
                                        input_formats=DATETIME_FORMATS)


def _session_limit(name: str) -> int:
    limit: int = TreatmentSession._meta.get_field(name).max_length
    return limit


def _practitioners(clinic_id: int | None) -> Any:
    return User.objects.filter(clinic_id=clinic_id, is_active=True,
                               role__in=[Role.CLINICIAN, Role.OWNER]).order_by(
        "last_name", "first_name")


class ChartForm(forms.Form):
    performed_on = forms.DateField(label=_("Date performed"), required=False, widget=DATE)
    practitioner = forms.ModelChoiceField(label=_("Practitioner"), required=False,
                                          queryset=User.objects.none())
    device = forms.ChoiceField(label=_("Device type"), required=False,
                               choices=[("", "—"), *_terms(vocab.DEVICES)])
    device_model = forms.CharField(label=_("Device make and model"), required=False,
                                   max_length=120)
    cartridge_lot = forms.CharField(label=_("Cartridge lot"), required=False, max_length=80)
    cartridge_expiry = forms.DateField(label=_("Cartridge expiry date"), required=False,
                                       widget=DATE)
    anaesthetic = forms.CharField(label=_("Topical anaesthetic"), required=False,
                                  max_length=120)
    anaesthetic_minutes = forms.IntegerField(label=_("Anaesthetic on for (minutes)"),
                                             required=False, min_value=0, max_value=240)
    endpoint_reached = forms.CharField(
        label=_("Endpoint reached"), required=False, max_length=120,
        help_text=_("For example: uniform pinpoint bleeding; erythema only."))
    # The free-text limits are the model's (care.models.TreatmentSession).
    immediate_reaction = forms.CharField(label=_("Immediate reaction"), required=False,
                                         widget=forms.Textarea(attrs={"rows": 2}),
                                         max_length=_session_limit("immediate_reaction"))
    notes = forms.CharField(label=_("Clinical notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 4}),
                            max_length=_session_limit("notes"))
    interval_reason = forms.CharField(
        label=_("Reason for a shorter interval"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}), max_length=_session_limit("interval_reason"),
        help_text=_("Needed only when this session comes sooner than the plan's interval."))

    def __init__(self, *args: Any, clinic_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = _practitioners(clinic_id)
        for code, term in vocab.PRODUCTS.items():
            self.fields[f"product_{code}"] = forms.BooleanField(
                label=term.display, help_text=term.definition, required=False)
            self.fields[f"product_{code}_name"] = forms.CharField(
                label=_("%(product)s: product name") % {"product": term.display},
                required=False, max_length=120)
            self.fields[f"product_{code}_lot"] = forms.CharField(
                label=_("%(product)s: lot") % {"product": term.display}, required=False,
                max_length=80)

    def product_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [(self[f"product_{c}"], self[f"product_{c}_name"], self[f"product_{c}_lot"])
                for c in vocab.PRODUCTS]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        performed = data.get("performed_on")
        if performed and performed > clock.localdate():
            self.add_error("performed_on", _("The date performed cannot be in the future."))
        for code in vocab.PRODUCTS:
            if not data.get(f"product_{code}") and (data.get(f"product_{code}_name")
                                                    or data.get(f"product_{code}_lot")):
                self.add_error(f"product_{code}", _("Tick the product, or clear its name and "
                                                    "lot."))
        return data

    @staticmethod
    def initial_for(session: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(session, name) for name in (
            "performed_on", "device", "device_model", "cartridge_lot", "cartridge_expiry",
            "anaesthetic", "anaesthetic_minutes", "endpoint_reached", "immediate_reaction",
            "notes", "interval_reason")}
        initial["practitioner"] = session.practitioner_id
        for product in session.products:
            code = product.get("code")
            initial[f"product_{code}"] = True
            initial[f"product_{code}_name"] = product.get("name", "")
            initial[f"product_{code}_lot"] = product.get("lot", "")
        return initial


class ZoneForm(forms.Form):
    zone = forms.ChoiceField(label=_("Zone"), choices=_terms(vocab.ZONES))
    depth_mm = forms.DecimalField(
        label=_("Depth (mm)"), required=False, min_value=Decimal("0.05"), max_value=MAX_DEPTH_MM,
        max_digits=3, decimal_places=2, widget=forms.NumberInput(attrs={"step": "0.05"}))
    passes = forms.IntegerField(label=_("Passes"), required=False, min_value=1, max_value=20)
    depth_reason = forms.CharField(
        label=_("Reason for a depth beyond the plan"), required=False, max_length=1000)

    def __init__(self, *args: Any, zones: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if zones is not None:
            self.fields["zone"].choices = [(z, vocab.ZONES[z].display if z in vocab.ZONES
                                            else z) for z in zones]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        depth, passes = data.get("depth_mm"), data.get("passes")
        if (depth is None) != (passes is None) and not self.errors:
            self.add_error(None, _("Give both the depth and the passes for a treated zone, or "
                                   "leave both empty for a zone not treated."))
        return data


class BaseZoneFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            zone = form.cleaned_data.get("zone")
            if form.cleaned_data.get("depth_mm") is None:
                continue
            if zone in seen:
                raise forms.ValidationError(_("Each zone can be recorded once."))
            seen.add(zone)


ZoneFormSet = forms.formset_factory(ZoneForm, formset=BaseZoneFormSet, extra=0, max_num=20,
                                    validate_max=True)
ZONES_PREFIX = "zones"


def zone_formset(session: Any, data: Any = None, zones: list[str] | None = None
                 ) -> forms.BaseFormSet:
    """One row per zone of the plan, filled from the chart saved so far."""
    plan_zones = list(zones if zones is not None else session.plan.zones)
    stored = {z.zone: z for z in session.zones.all()} if session is not None else {}
    initial = [{"zone": z, "depth_mm": stored[z].depth_mm if z in stored else None,
                "passes": stored[z].passes if z in stored else None,
                "depth_reason": stored[z].depth_reason if z in stored else ""}
               for z in [*plan_zones, *(z for z in stored if z not in plan_zones)]]
    return ZoneFormSet(data, initial=initial, prefix=ZONES_PREFIX,
                       form_kwargs={"zones": list(dict.fromkeys(
                           [*plan_zones, *stored]))})


def chart_data(form: ChartForm, formset: forms.BaseFormSet) -> ChartData:
    data = form.cleaned_data
    rows = tuple(
        ZoneRow(zone=f.cleaned_data["zone"], depth_mm=f.cleaned_data["depth_mm"],
                passes=f.cleaned_data["passes"],
                depth_reason=f.cleaned_data.get("depth_reason", ""))
        for f in formset.forms if f.cleaned_data.get("depth_mm") is not None)
    products = tuple(
        {"code": code, "name": data.get(f"product_{code}_name", ""),
         "lot": data.get(f"product_{code}_lot", "")}
        for code in vocab.PRODUCTS if data.get(f"product_{code}"))
    practitioner = data.get("practitioner")
    return ChartData(
        performed_on=data.get("performed_on"),
        practitioner_id=practitioner.pk if practitioner else None,
        device=data.get("device", ""), device_model=data.get("device_model", ""),
        cartridge_lot=data.get("cartridge_lot", ""),
        cartridge_expiry=data.get("cartridge_expiry"),
        anaesthetic=data.get("anaesthetic", ""),
        anaesthetic_minutes=data.get("anaesthetic_minutes"), zones=rows,
        endpoint_reached=data.get("endpoint_reached", ""), products=products,
        immediate_reaction=data.get("immediate_reaction", ""), notes=data.get("notes", ""),
        interval_reason=data.get("interval_reason", ""),
    )


class LotSearchForm(forms.Form):
    lot = forms.CharField(label=_("Lot number"), max_length=80,
                          help_text=_("Cartridge or product lot, exactly as printed "
                                      "(capitals do not matter)."))
