"""The framing guide on the patient's photo page: an outline of where the face goes for the
view, and where their face was in their baseline photo of that view, so that each photo is
taken like the first (imaging.md §6: the same distance and angle matter as much as the maths).

The guide is drawn from the baseline's landmarks (geometry only, never the picture itself), so
it needs no use of the photo beyond the clinical record, and it is a small SVG with no script.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from needlecare.imaging.landmarks import FACE_OVAL
from needlecare.photos.models import Moment, Photo, PhotoView

#: A portrait phone frame, 3:4, and where the face should sit in it: centred, a little above
#: the middle, about 60 % of the width (the quality check wants at least 25 %).
FRAME = (300, 400)
OUTLINE = {"cx": 150, "cy": 185, "rx": 90, "ry": 122}
TURNS = {
    PhotoView.FRONT: gettext_lazy("Look straight at the phone."),
    PhotoView.LEFT_45: gettext_lazy("Turn your head halfway to your right, so your left cheek "
                                    "faces the phone."),
    PhotoView.RIGHT_45: gettext_lazy("Turn your head halfway to your left, so your right "
                                     "cheek faces the phone."),
}


@dataclass(frozen=True)
class Guide:
    svg: SafeString
    turn: str
    #: Sentences comparing with the baseline's framing (empty without a baseline).
    baseline: list[str]


def _baseline(patient_id: int, view: str) -> Photo | None:
    """The first pre-treatment photo of the view that passed its checks, else the first one
    that did (a photo to retake is never the model)."""
    photos = Photo.objects.filter(patient_id=patient_id, view=view, landmarks__isnull=False,
                                  quality_passed=True)
    return (photos.filter(moment=Moment.BEFORE).order_by("taken_at", "id").first()
            or photos.order_by("taken_at", "id").first())


def _box(photo: Photo) -> tuple[float, float, float, float]:
    """The face oval's bounding box in the photo, as shares of its width and height."""
    points = [photo.landmarks[i] for i in FACE_OVAL]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _size_words(share: float) -> str:
    if share >= 0.7:
        return _("most of the width of the picture")
    if share >= 0.45:
        return _("about half the width of the picture")
    return _("less than half the width of the picture")


def guide(patient_id: int, view: str) -> Guide:
    width, height = FRAME
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="framing" viewBox="0 0 {width} '
        f'{height}" role="img" aria-labelledby="framing-title">',
        f'<title id="framing-title">{escape(_("Where your face goes in the photo"))}</title>',
        f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" rx="18" fill="#f3f5f7" '
        f'stroke="#4a5560" stroke-width="2"/>',
        '<ellipse cx="{cx}" cy="{cy}" rx="{rx}" ry="{ry}" fill="none" stroke="#0b5c6b" '
        'stroke-width="4"/>'.format(**OUTLINE),
    ]
    sentences: list[str] = []
    baseline = _baseline(patient_id, view)
    if baseline is not None and baseline.landmarks:
        left, top, right, bottom = _box(baseline)
        parts.append(
            f'<rect x="{left * width:.0f}" y="{top * height:.0f}" '
            f'width="{(right - left) * width:.0f}" height="{(bottom - top) * height:.0f}" '
            f'fill="none" stroke="#a1141b" stroke-width="3" stroke-dasharray="8 6">'
            f'<title>{escape(_("Your face in your first photo"))}</title></rect>')
        sentences.append(_("The dashed box shows where your face was in your first photo: "
                           "it filled %(size)s.") % {"size": _size_words(right - left)})
        centre = (left + right) / 2
        if centre < 0.4:
            sentences.append(_("It was a little to the left of the middle."))
        elif centre > 0.6:
            sentences.append(_("It was a little to the right of the middle."))
    parts.append("</svg>")
    return Guide(mark_safe("".join(parts)),  # every text above is escaped
                 str(TURNS.get(PhotoView(view), TURNS[PhotoView.FRONT])), sentences)
