"""The controlled codes every part of Needlecare speaks.

Codes are stable identifiers stored in records and protocol files; the display name and the
definition are what clinicians read, and ``patient`` is the plain wording a patient sees on a
phone. A protocol file that names a code not listed here is refused by the loader.

Codes are only ever added, never removed, so that every stored record stays readable; when an
edition splits a code, the narrowed code's definition says what it covered before. Each term
says in which vocabulary edition it was added (``since``); a protocol names the edition it was
written for, and the loader and the engines treat a code from a later edition as unknown to it
(an older protocol neither asks nor silently ignores it).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

#: The latest vocabulary edition; protocols name the edition they were written for.
EDITION = 2


@dataclass(frozen=True, slots=True)
class Term:
    code: str
    display: str
    definition: str
    patient: str
    since: int = 1


def _terms(*terms: Term) -> Mapping[str, Term]:
    return MappingProxyType({t.code: t for t in terms})


class Verdict(StrEnum):
    """Screening verdicts, least to most restrictive."""

    SUITABLE = "suitable"
    SUITABLE_WITH_PRECAUTIONS = "suitable_with_precautions"
    DEFER = "defer"
    NOT_SUITABLE = "not_suitable"

    @property
    def rank(self) -> int:
        return _VERDICT_ORDER.index(self)


_VERDICT_ORDER = list(Verdict)


class Level(StrEnum):
    """Triage levels, least to most severe."""

    EXPECTED = "expected"
    CONTACT_CLINIC = "contact_clinic"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return _LEVEL_ORDER.index(self)


_LEVEL_ORDER = list(Level)


class Evidence(StrEnum):
    """Evidence tags from the clinical reference. [V] values are never encoded, so no tag."""

    CITED = "C"
    CITED_LOW = "C-low"
    PRACTICE = "P"


class Trend(StrEnum):
    BETTER = "better"
    SAME = "same"
    WORSE = "worse"


class Device(StrEnum):
    PEN = "pen"
    ROLLER = "roller"
    STAMP = "stamp"
    RF = "rf"


DEVICES = _terms(
    Term("pen", "Automated microneedling pen", "Motorised pen with a single-use cartridge.",
         "microneedling pen"),
    Term("roller", "Dermaroller", "Hand-held roller with fixed needles.", "needle roller"),
    Term("stamp", "Dermastamp", "Hand-held stamp with fixed needles.", "needle stamp"),
    Term("rf", "Radiofrequency microneedling",
         "Needles that deliver radiofrequency energy into the dermis.",
         "radiofrequency microneedling"),
)

CONDITIONS = _terms(
    Term("active_acne", "Active inflammatory acne in the area",
         "Papulopustular or nodular acne currently active in the treatment area.",
         "spots or acne that are active right now where you are being treated"),
    Term("active_skin_infection", "Active skin infection in the area",
         "Bacterial, viral or fungal infection in the treatment area (impetigo, warts).",
         "a skin infection where you are being treated"),
    Term("active_cold_sore", "Active cold sore",
         "An active herpes simplex lesion in or near the treatment area.",
         "a cold sore right now"),
    Term("cold_sore_history", "History of cold sores",
         "Recurrent herpes labialis in the past.", "cold sores in the past"),
    Term("eczema_flare", "Eczema flaring in the area",
         "Atopic or other dermatitis active in the treatment area.",
         "eczema or dermatitis flaring where you are being treated"),
    Term("psoriasis_flare", "Psoriasis flaring in the area",
         "Active psoriasis plaques in the treatment area.",
         "psoriasis flaring where you are being treated"),
    Term("rosacea_active", "Active rosacea in the area",
         "Rosacea with active inflammation in the treatment area.",
         "rosacea flaring where you are being treated"),
    Term("open_wound", "Open wound in the area",
         "An unhealed wound or unhealed surgical scar in the treatment area.",
         "an open or unhealed wound where you are being treated"),
    Term("sunburn", "Sunburn or recent intense tanning of the area",
         "Sunburn or deliberate intense tanning of the treatment area that has not settled.",
         "sunburn or a fresh tan where you are being treated"),
    Term("keloid_history", "Keloid or hypertrophic scarring",
         "Personal history of keloids or hypertrophic scars.",
         "raised, thick scars (keloids) after injuries or surgery"),
    Term("bleeding_disorder", "Bleeding disorder",
         "Haemophilia, thrombocytopenia or another disorder of clotting.",
         "a bleeding or clotting disorder"),
    Term("diabetes_controlled", "Diabetes, controlled",
         "Diabetes with glucose control the treating doctor considers adequate.",
         "diabetes that is well controlled"),
    Term("diabetes_uncontrolled", "Diabetes, uncontrolled",
         "Diabetes with poor glucose control.", "diabetes that is not well controlled"),
    Term("immunosuppression", "Immunosuppression",
         "Reduced immunity from disease or treatment.", "a weakened immune system"),
    Term("autoimmune_disease", "Autoimmune or collagen-vascular disease",
         "Lupus, scleroderma and related conditions.",
         "an autoimmune condition such as lupus or scleroderma"),
    Term("vitiligo_active", "Active vitiligo",
         "Vitiligo that is spreading or new in the last months.",
         "vitiligo (white patches) that is spreading"),
    Term("suspicious_lesion", "Skin cancer or suspicious lesion in the area",
         "Malignant, suspicious or changing lesion, actinic keratosis or raised naevus in the "
         "field.",
         "a mole or mark that is changing, or skin cancer, where you are being treated"),
    Term("melasma", "Melasma", "Symmetrical facial hyperpigmentation (melasma).",
         "melasma (patchy brown marks on the face)"),
    Term("pih_history", "History of post-inflammatory hyperpigmentation",
         "Dark marks that followed earlier inflammation, injury or procedures.",
         "dark marks that stayed after spots, injuries or treatments"),
    Term("pregnancy", "Pregnancy", "Currently pregnant.", "being pregnant"),
    Term("breastfeeding", "Breastfeeding", "Currently breastfeeding.", "breastfeeding"),
    Term("metal_implants_area", "Gold threads or metal implants in the area",
         "Gold threads, plates or other metal implants under the treatment area.",
         "gold threads or metal implants where you are being treated"),
    Term("implanted_device", "Implanted electronic device",
         "Pacemaker, implantable defibrillator or another implanted electronic device.",
         "a pacemaker, defibrillator or other electronic device implanted in your body",
         since=2),
    Term("unwell_today", "Unwell or feverish on the day",
         "Feeling unwell, feverish or having an acute infection on the day of treatment.",
         "feeling unwell or feverish today", since=2),
    Term("granuloma_history", "Granuloma or delayed reaction after microneedling",
         "A granuloma, or another reaction starting days to weeks later, after an earlier "
         "microneedling treatment.",
         "lumps or a reaction that started days or weeks after an earlier microneedling "
         "treatment", since=2),
    Term("tattoo_area", "Tattoo or permanent make-up in the area",
         "A tattoo or permanent make-up (micropigmentation) in the treatment area.",
         "a tattoo or permanent make-up where you are being treated", since=2),
    Term("vitiligo_stable", "Stable vitiligo",
         "Vitiligo that has not spread or changed in the last 12 months.",
         "vitiligo (white patches) that has not changed for a year or more", since=2),
)

MEDICATIONS = _terms(
    Term("isotretinoin", "Oral isotretinoin",
         "Isotretinoin (e.g. Roaccutane) taken by mouth, now or recently.",
         "isotretinoin tablets for acne (for example Roaccutane)"),
    Term("anticoagulant", "Anticoagulant",
         "Warfarin, DOACs (apixaban, rivaroxaban, dabigatran, edoxaban), heparins.",
         "blood thinners such as warfarin or apixaban"),
    Term("antiplatelet", "Antiplatelet", "Aspirin, clopidogrel, ticagrelor, prasugrel.",
         "aspirin or clopidogrel"),
    Term("nsaid", "NSAID", "Non-steroidal anti-inflammatory drugs (ibuprofen, naproxen).",
         "anti-inflammatory painkillers such as ibuprofen"),
    Term("topical_retinoid", "Topical retinoid or exfoliating active",
         "Tretinoin, adapalene, retinol; also AHA/BHA, benzoyl peroxide, hydroquinone.",
         "retinol, tretinoin or acid creams on your skin"),
    Term("systemic_immunosuppressant", "Systemic steroid or immunosuppressant",
         "Oral or injected corticosteroids, methotrexate, biologics and similar.",
         "steroid tablets or medicines that lower your immunity"),
    Term("photosensitising_drug", "Photosensitising drug",
         "A medicine that makes the skin react more to sunlight (e.g. doxycycline).",
         "a medicine that makes you sensitive to the sun"),
    Term("chemotherapy", "Chemotherapy", "Cancer chemotherapy, current or recent.",
         "chemotherapy"),
    Term("topical_steroid", "Topical corticosteroid on the area",
         "A corticosteroid cream or ointment (e.g. hydrocortisone, betamethasone) used on the "
         "treatment area.",
         "a steroid cream or ointment on the area being treated", since=2),
    Term("oral_retinoid_other", "Oral retinoid other than isotretinoin",
         "Acitretin, alitretinoin or another retinoid taken by mouth.",
         "other vitamin A tablets for the skin, such as acitretin", since=2),
    Term("bleeding_supplement", "Supplement that affects bleeding",
         "Fish oil, ginkgo, garlic, vitamin E, turmeric or similar supplements.",
         "supplements such as fish oil, ginkgo, garlic or vitamin E", since=2),
)

PROCEDURES = _terms(
    Term("chemical_peel_light", "Chemical peel, light", "Superficial chemical peel.",
         "a light chemical peel"),
    Term("chemical_peel_medium", "Chemical peel, medium", "Medium-depth chemical peel.",
         "a medium chemical peel"),
    Term("chemical_peel_deep", "Chemical peel, deep", "Deep chemical peel (e.g. phenol).",
         "a deep chemical peel"),
    Term("laser_ablative", "Ablative laser", "CO2 or Er:YAG resurfacing, fractional or not.",
         "laser resurfacing"),
    Term("laser_non_ablative", "Non-ablative laser",
         "Non-ablative fractional or other non-ablative laser.", "a non-ablative laser"),
    Term("ipl", "Intense pulsed light", "IPL photorejuvenation or hair removal.",
         "IPL (intense pulsed light)"),
    Term("dermal_filler", "Dermal filler", "Hyaluronic acid or other filler injected.",
         "dermal filler injections"),
    Term("botulinum_toxin", "Botulinum toxin", "Botulinum toxin injections.",
         "anti-wrinkle injections (for example Botox)"),
    Term("microneedling", "Previous microneedling", "An earlier microneedling session.",
         "microneedling"),
    Term("waxing_threading", "Waxing or threading of the area",
         "Waxing, threading, depilatory cream or electrolysis in the treatment area.",
         "waxing, threading or hair-removal cream where you are being treated"),
    Term("facial_surgery", "Facial surgery", "Surgery on the face or the treatment area.",
         "surgery on your face or the treated area"),
    Term("radiotherapy_area", "Radiotherapy to the area",
         "Radiotherapy that included the treatment area (date of the last fraction).",
         "radiotherapy to the treated area"),
)

ALLERGIES = _terms(
    Term("local_anaesthetic", "Local anaesthetic allergy", "Allergy to lidocaine, prilocaine "
         "or other topical anaesthetics.", "allergy to numbing creams"),
    Term("nickel", "Metal (nickel) allergy", "Allergy to nickel or other metals.",
         "allergy to nickel or metal"),
    Term("product_ingredient", "Allergy to a product to be applied",
         "Allergy to an ingredient of a glide, serum or aftercare product planned for use.",
         "allergy to an ingredient of the creams or serums used"),
    Term("antiseptic", "Allergy to the skin antiseptic",
         "Allergy to chlorhexidine, povidone-iodine or another skin antiseptic.",
         "allergy to skin-cleaning antiseptics such as chlorhexidine", since=2),
)

ZONES = _terms(
    Term("forehead", "Forehead and temples", "Forehead and temples.", "forehead"),
    Term("periorbital", "Periorbital", "Lower eyelid and crow's feet.", "around the eyes"),
    Term("nose", "Nose", "Nasal dorsum, sidewalls and tip.", "nose"),
    Term("cheeks", "Cheeks", "Malar and buccal cheeks.", "cheeks"),
    Term("perioral", "Perioral", "Upper lip and around the mouth.", "around the mouth"),
    Term("chin", "Chin", "Chin.", "chin"),
    Term("jawline", "Jawline", "Mandibular border.", "jawline"),
    Term("neck", "Neck", "Anterior and lateral neck.", "neck"),
    Term("decolletage", "Décolletage", "Upper chest.", "chest"),
    Term("scalp", "Scalp", "Hair-bearing scalp.", "scalp"),
    Term("body", "Body", "Abdomen, thighs, buttocks, arms or back.", "body"),
)

FACE_ZONES = frozenset({"forehead", "periorbital", "nose", "cheeks", "perioral", "chin",
                        "jawline"})

INDICATIONS = _terms(
    Term("acne_scars", "Acne scars", "Atrophic acne scars (rolling, boxcar, ice-pick).",
         "acne scars"),
    Term("fine_lines", "Fine lines and wrinkles", "Fine lines and wrinkles.",
         "fine lines and wrinkles"),
    Term("texture_pores", "Texture and enlarged pores", "Uneven texture and enlarged pores.",
         "skin texture and pores"),
    Term("dyschromia_melasma", "Dyschromia / melasma",
         "Uneven pigmentation or melasma, as an adjunct to topical treatment.",
         "uneven skin colour or melasma"),
    Term("stretch_marks", "Stretch marks", "Striae alba or rubra.", "stretch marks"),
    Term("surgical_scars", "Surgical or traumatic scars", "Scars from surgery or injury.",
         "scars from surgery or injury"),
    Term("hair_loss", "Hair loss", "Androgenetic alopecia, with topical minoxidil.",
         "hair loss"),
)

PRODUCTS = _terms(
    Term("hyaluronic_acid", "Hyaluronic acid glide",
         "Sterile hyaluronic-acid gel used as the glide medium.", "hyaluronic acid gel"),
    Term("topical_anaesthetic", "Topical anaesthetic", "Lidocaine or prilocaine cream.",
         "numbing cream"),
    Term("prp", "Platelet-rich plasma", "Autologous platelet-rich plasma.",
         "platelet-rich plasma (PRP)"),
    Term("growth_factors", "Growth-factor serum", "Cosmetic growth-factor or peptide serum.",
         "growth-factor serum"),
    Term("vitamin_c", "Vitamin C serum", "Ascorbic-acid serum (not for intradermal use).",
         "vitamin C serum"),
    Term("tranexamic_acid", "Tranexamic acid", "Topical tranexamic acid.",
         "tranexamic acid"),
    Term("minoxidil", "Minoxidil", "Topical minoxidil for hair loss.", "minoxidil"),
    Term("other_cosmeceutical", "Other cosmeceutical",
         "Any other serum or cream not sold for intradermal use.", "another serum or cream"),
)

SYMPTOMS = _terms(
    Term("redness", "Erythema", "Redness of the treated skin.", "redness"),
    Term("swelling", "Oedema", "Swelling of the treated skin.", "swelling"),
    Term("pinpoint_bleeding", "Pinpoint bleeding",
         "Pinpoint bleeding from the needle channels. (Until vocabulary edition 2 this code "
         "also covered clear ooze, which is now `weeping`.)",
         "tiny spots of blood"),
    Term("pain", "Pain or burning", "Pain, burning or tenderness.", "pain, burning or soreness"),
    Term("dryness_flaking", "Dryness and flaking", "Dry skin and fine flaking.",
         "dry or flaking skin"),
    Term("tightness", "Tightness", "A tight feeling of the skin.", "tight-feeling skin"),
    Term("itching", "Itching", "Itch at the treated site.", "itching"),
    Term("bruising", "Bruising", "Ecchymosis in the treated area.", "bruising"),
    Term("tender_lymph_nodes", "Tender lymph nodes", "Tender glands near the treated area.",
         "sore glands in your neck or jaw"),
    Term("breakouts", "Pimples, whiteheads or milia", "Acneiform flare or milia.",
         "new pimples or whiteheads"),
    Term("warmth", "Warmth of the area", "The treated skin feels warm or hot.",
         "the treated skin feeling warm or hot", since=2),
    Term("weeping", "Weeping clear fluid",
         "Clear or straw-coloured fluid oozing from the treated skin, without blood.",
         "clear fluid oozing from the skin", since=2),
    Term("scabs", "Scabs that are not yellow",
         "Small dark or brown scabs or crusts over the needle marks; yellow or honey-coloured "
         "crusts are the red flag `pus_or_yellow_crusts`.",
         "small dark or brown scabs (not yellow)", since=2),
)

RED_FLAGS = _terms(
    Term("pus_or_yellow_crusts", "Pus or yellow crusts", "Purulent discharge or honey crusts.",
         "pus, or yellow crusts on the skin"),
    Term("fever_or_chills", "Fever, chills or feeling unwell", "Systemic signs of infection.",
         "a fever or chills, or feeling generally unwell"),
    Term("spreading_redness", "Spreading redness or red streaks",
         "Erythema spreading beyond the treated area, warmth, or lymphangitic streaks.",
         "redness spreading beyond the treated area, or red streaks"),
    Term("bleeding_wont_stop", "Bleeding that does not stop",
         "Bleeding that does not stop after 10–15 minutes of firm pressure, or new bleeding "
         "after the day of treatment.",
         "bleeding that does not stop after 10 to 15 minutes of firm pressure"),
    Term("bleeding_heavy", "Heavy bleeding", "Heavy bleeding that will not stop.",
         "heavy bleeding that will not stop"),
    Term("blisters_or_cold_sores", "Clustered blisters or cold sores",
         "Grouped vesicles or painful crusted sores, especially perioral.",
         "groups of small blisters, or cold sores"),
    Term("hives_or_rash", "Itchy rash or hives on the treated skin",
         "Urticaria or an itchy rash at the treated site. (Until vocabulary edition 2 the "
         "wording also covered a spreading rash, which is now `rash_widespread`.)",
         "an itchy rash or hives on the treated skin"),
    Term("rash_widespread", "Hives or rash beyond the treated area, or spreading fast",
         "Urticaria or a rash away from the treated site, or one spreading quickly.",
         "hives or a rash beyond the treated area, or a rash that is spreading fast", since=2),
    Term("faint_or_dizzy", "Faintness or dizziness",
         "Feeling faint, light-headed or dizzy, or having fainted.",
         "feeling faint or dizzy, or having fainted", since=2),
    Term("breathing_or_throat_swelling", "Difficulty breathing or swelling of lips, tongue or "
         "throat", "Signs of anaphylaxis.",
         "difficulty breathing, or swelling of your lips, tongue or throat"),
    Term("eye_pain_or_swelling_shut", "Eye pain or eye swollen shut",
         "Periorbital swelling that stops the eye opening, or eye pain.",
         "eye pain, or swelling that stops your eye opening"),
    Term("vision_change", "Change in vision", "Any change in vision.",
         "any change in your eyesight"),
    Term("severe_or_increasing_pain", "Severe or increasing pain",
         "Pain that is severe or getting worse rather than better.",
         "severe pain, or pain that is getting worse"),
    Term("new_dark_patches", "New dark patches", "New hyperpigmentation in the treated area.",
         "new dark patches on the treated skin"),
    Term("firm_bumps", "Firm bumps or nodules", "Firm papules or nodules appearing days to "
         "weeks after treatment.", "firm bumps or lumps under the treated skin"),
    Term("grid_or_track_marks", "Grid or track marks", "Linear or grid-like marks in the "
         "needling pattern.", "lines or a grid pattern in the skin"),
    Term("numbness_burn_or_dent", "Numbness, burns or dents",
         "Numbness, burn marks or dents (fat loss) in the treated area.",
         "numbness, burn marks or dents in the skin"),
    Term("pale_or_white_patches", "Pale or white patches",
         "Blanched, pale or white areas in or around the treated skin.",
         "pale or white patches on the treated skin", since=2),
)

FITZPATRICK = _terms(
    Term("1", "Fitzpatrick I", "Always burns, never tans.", "always burns, never tans"),
    Term("2", "Fitzpatrick II", "Burns easily, tans minimally.", "burns easily, tans a little"),
    Term("3", "Fitzpatrick III", "Burns moderately, tans gradually.",
         "sometimes burns, tans gradually"),
    Term("4", "Fitzpatrick IV", "Burns minimally, tans well.", "rarely burns, tans well"),
    Term("5", "Fitzpatrick V", "Rarely burns, tans deeply.", "very rarely burns, tans deeply"),
    Term("6", "Fitzpatrick VI", "Never burns, deeply pigmented.",
         "never burns, deeply pigmented skin"),
)

#: Intake facts a screening rule may test, by the prefix used in the protocol file.
FACT_CATEGORIES: Mapping[str, Mapping[str, Term]] = MappingProxyType({
    "condition": CONDITIONS,
    "medication": MEDICATIONS,
    "procedure": PROCEDURES,
    "allergy": ALLERGIES,
})

VOCABULARIES: Mapping[str, Mapping[str, Term]] = MappingProxyType({
    "conditions": CONDITIONS,
    "medications": MEDICATIONS,
    "procedures": PROCEDURES,
    "allergies": ALLERGIES,
    "zones": ZONES,
    "indications": INDICATIONS,
    "devices": DEVICES,
    "products": PRODUCTS,
    "symptoms": SYMPTOMS,
    "red_flags": RED_FLAGS,
    "fitzpatrick": FITZPATRICK,
})


def is_known_fact(ref: str, edition: int = EDITION) -> bool:
    """True for a protocol fact reference such as ``condition:keloid_history``, in ``edition``."""
    category, _, code = ref.partition(":")
    term = FACT_CATEGORIES.get(category, {}).get(code)
    return term is not None and term.since <= edition


@functools.cache
def codes_in(vocabulary: str, edition: int) -> frozenset[str]:
    """The codes of one vocabulary (``"red_flags"``) that ``edition`` has."""
    return frozenset(code for code, term in VOCABULARIES[vocabulary].items()
                     if term.since <= edition)
