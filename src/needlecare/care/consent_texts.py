"""The consent wording patients read and sign, one immutable text per version.

The wording is versioned rather than translated through gettext: a signature certifies one exact
text, so a translation or any change of wording is a new, reviewed version with a new name. The
signed copy is stored with the consent, so changing this file never rewrites a signed consent.

Facts come from the clinical reference (shared/clinical/reference.md): the normal course (§3.1),
adverse events (§4.1), results and their timing (§0, §3.1, §5.7) and record keeping (§7).

Plain-text format (also used to show a signed copy): a line starting with ``## `` is a heading,
a line starting with ``- `` is a list item, a blank line separates paragraphs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True, slots=True)
class ConsentText:
    kind: str
    version: str
    title: str
    text: str


TREATMENT_2026_1 = ConsentText(
    kind="treatment",
    version="treatment-2026.1",
    title="Consent to microneedling treatment",
    text="""\
## What microneedling is
Microneedling (also called collagen induction therapy) uses a device with many very fine, \
sterile needles to make tiny punctures in the top layers of the skin. The device may be a pen \
with a single-use cartridge, a roller, a stamp, or a radiofrequency microneedling device. The \
skin repairs these punctures and, as it does, makes new collagen. A numbing cream may be put on \
first and is removed before needling.

## What is normal afterwards
- Redness, like mild sunburn, usually for 1 to 3 days.
- Swelling, mostly in the first 2 to 3 days.
- Tiny spots of bleeding or clear fluid during and just after treatment; these stop within \
minutes with gentle pressure.
- Tightness, dryness and fine flaking of the skin in the first days.
- Sometimes bruising, which can take about a week to fade.

These effects normally settle within 7 days. Redness or swelling that is getting worse after \
day 3, or still there after day 7, is not the normal course: contact the clinic.

## Risks
- Infection: uncommon, but it needs prompt treatment. Signs are pus, yellow crusts, redness \
spreading beyond the treated area, increasing warmth or pain, fever or chills.
- Cold sores: if you have had cold sores before, treatment can bring on a flare. Your \
clinician will talk with you about preventing one.
- Changes in skin colour: dark (or, less often, light) patches can appear in the weeks after \
treatment. This is more likely in darker skin types and after sun exposure. Patches usually \
fade with treatment and sun protection, but this can take months.
- Reactions to products: creams, serums or numbing cream can cause an allergic rash, or rarely \
firm red bumps (granulomas) days to weeks later, which can last for months.
- Track marks: lines or a grid pattern in the skin, more likely with rollers and over bony \
areas.
- Scarring: rare.
- Spots or small white bumps (milia) for a few days or weeks.
- Bleeding and bruising, more likely if you take medicines that thin the blood.
- With radiofrequency microneedling, burns, dents in the skin and numbness have also been \
reported.

## What results to expect
- Results are not immediate. Your skin rebuilds over the following weeks and months.
- Results are cumulative: each session adds to the last, and most people need a course of \
several sessions, usually about 4 weeks apart.
- The final result is judged about 3 months after your last session, and it can keep \
improving for up to a year.
- Results vary from person to person, and no particular result can be promised.
- The changes come from your own skin rebuilding, so they cannot be reversed.

## Your part
- Tell us about your health, your medicines and any recent treatments, now and before every \
session. Some of them mean treatment has to wait.
- Follow the aftercare plan you are given after each session: gentle cleansing, sunscreen \
(SPF 50 or higher) every morning, no make-up on the first day, no picking of flakes or crusts, \
and avoiding exercise, swimming, saunas, waxing and active skin products for the days it gives.
- Answer the check-in questions the clinic sends you, and contact the clinic straight away if \
anything worries you. For difficulty breathing or swelling of your lips, tongue or throat, call \
emergency services.

## Records
The clinic records the details of each session, including the device and the lot numbers of \
the single-use cartridge and of the products used, so that you can be contacted if a product \
is ever recalled.

## Your right to change your mind
You can ask questions at any time before you sign. You can stop a session at any time, and you \
can withdraw this consent at any time by telling the clinic. Withdrawing does not undo \
treatment already given, and it will not affect the rest of your care at the clinic.

## Your agreement
By signing, you confirm that you have read and understood this information, that you have had \
the chance to ask questions, and that you agree to a course of microneedling treatment.
""",
)

PHOTOS_2026_1 = ConsentText(
    kind="photos",
    version="photos-2026.1",
    title="Consent to clinical photographs",
    text="""\
## Why we take photographs
Photographs of the treated area, taken before treatment and at later visits, help your \
clinician plan your treatment and judge how your skin responds. Results build slowly, over \
weeks to months, so photographs are the fairest way to compare.

## How they are kept
Photographs are kept securely in your clinical record at this clinic, like the rest of your \
notes. Only clinic staff who need them for your care can see them.

## Your choices
This form is separate from your consent to treatment: you can have treatment without agreeing \
to photographs. If you agree to photographs, they are always kept in your clinical record. You \
can also choose, separately, whether they may be used:
- for teaching, anonymised: your name and details removed, and your face not recognisable \
(for example cropped or with the eyes covered);
- for the clinic's marketing (for example its website or social media), where you may be \
recognisable.

## Your right to change your mind
You can withdraw this consent at any time by telling the clinic. New photographs will then not \
be taken, and photographs will not be used for teaching or marketing from then on; material \
already published may not be fully withdrawn.

## Your agreement
By signing, you confirm that you have read and understood this information and agree to \
clinical photographs for the uses you have chosen.
""",
)

PHOTOS_2026_2 = ConsentText(
    kind="photos",
    version="photos-2026.2",
    title="Consent to clinical photographs",
    text="""\
## Why we take photographs
Photographs of the treated area, taken before treatment and at later visits, help your \
clinician plan your treatment and judge how your skin responds. Results build slowly, over \
weeks to months, so photographs are the fairest way to compare. You may also take photographs \
yourself with your phone when you tell us how you are after a treatment; the clinic measures \
the redness on them to see whether your skin is healing as expected.

## How they are kept
Photographs are kept securely in your clinical record at this clinic, like the rest of your \
notes, for as long as the clinic keeps clinical records. Only clinic staff who need them for \
your care can see them. Location, serial numbers and other hidden details are removed from the \
files.

## Your choices
This form is separate from your consent to treatment: you can have treatment without agreeing \
to photographs. If you agree to photographs, they are always kept in your clinical record. You \
can also choose, separately, whether:
- they may be shown to you, on your phone and on a before-and-after sheet;
- they may be used for teaching, anonymised: your name and details removed, and your eyes \
covered so that your face is not recognisable;
- they may be used for the clinic's marketing (for example its website or social media), where \
you may be recognisable.

## Your right to change your mind
You can withdraw this consent, or any one of these uses, at any time by telling the clinic. \
From then on photographs will not be used for what you withdrew; if you withdraw the whole \
consent, new photographs will not be taken. Material already published may not be fully \
withdrawn.

## Your agreement
By signing, you confirm that you have read and understood this information and agree to \
clinical photographs for the uses you have chosen.
""",
)

TEXTS: Mapping[str, ConsentText] = MappingProxyType({
    t.version: t for t in (TREATMENT_2026_1, PHOTOS_2026_1, PHOTOS_2026_2)
})

#: The version offered for each kind of consent today.
CURRENT: Mapping[str, str] = MappingProxyType({
    "treatment": TREATMENT_2026_1.version,
    "photos": PHOTOS_2026_2.version,
})

#: What a patient may allow photographs to be used for. The clinical record is always included.
#: ("shown_to_patient" came with photos-2026.2: consents on the earlier text never offered it.)
PHOTO_USES: Mapping[str, object] = MappingProxyType({
    "clinical_record": _("My clinical record at this clinic"),
    "shown_to_patient": _("Showing them to me (on my phone and on a before-and-after sheet)"),
    "teaching": _("Teaching, anonymised (name removed and face not recognisable)"),
    "marketing": _("The clinic's marketing, where I may be recognisable"),
})


def current(kind: str) -> ConsentText:
    """The text a patient signs today for ``kind``; KeyError for an unknown kind."""
    return TEXTS[CURRENT[kind]]
