"""What a 12-megapixel photo costs: measurement against plain decoding and against the naive
pipeline, peak memory of one analysis, and the whole intake path; HEIC separately.

Run with ``python benchmarks/photos.py`` (``--rounds N``; ``BENCH_QUICK=1`` for a run well under
a minute). It generates a 4000×3000 Display P3 JPEG of a portrait (scikit-image's astronaut,
enlarged, with sensor-like noise; nothing is read from disk), then measures, in one run:

- decode: Pillow's JPEG decode at 1/4 scale in the DCT domain (the floor the measurement pays);
- measurement: ``analyse_photo`` (the same decode, colour management, Face Mesh landmarks,
  quality checks, region statistics); target at most 1.3 × the decode;
- naive: full-resolution decode + ``skimage.color.rgb2lab`` on every pixel; target: the
  measurement at least 20 × faster;
- peak memory of one analysis, in a fresh subprocess (resident set high-water mark above the
  process with its libraries and the Face Mesh graph loaded); target under 200 MB;
- intake: ``process_upload`` (sniffing, structure walk, one decode, metadata stripping,
  derivatives, analysis) + writing the three files; target under 400 ms per 12-MP JPEG.
  The same for a 12-MP HEIC is printed without a target (HEVC decoding alone takes about a
  second).
- the whole upload path through Django (a fresh SQLite database and media folder in a
  temporary directory): the patient's photo with a check-in (access checks, intake, files
  through ``default_storage``, the analysis done at once, the change from the baseline, the
  photo input to triage, the rows and audit rows); target under 400 ms per 12-MP JPEG. The
  staff path (the same, with the analysis by the worker's job) and HEIC through the patient
  path are printed beside it without a target; the pure intake above is the floor.
- the measurement's marginal cost inside the upload path: intake decodes once (at the screen
  copy's scale) and the measurement starts from those pixels, so beyond the intake it costs
  colour, landmarks, quality and region statistics only; printed against the 1/4-scale decode
  (``photos-measure-in-upload-vs-decode``: the measurement's cost, with the decode it shares,
  against that decode alone).

Medians and spreads (min–max) of the rounds; one ``TARGET name: figure (target …) PASS|MISS``
line per target at the end.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from tests.imaging import synthetic  # noqa: E402

from needlecare.imaging.analysis import analyse_photo  # noqa: E402
from needlecare.imaging.intake import accept_image  # noqa: E402
from needlecare.imaging.upload import process_upload  # noqa: E402
from targets import machine_load, target_line  # noqa: E402

RATIO_TARGET = 1.3
SPEEDUP_TARGET = 20.0
MEMORY_TARGET_MB = 200.0
INTAKE_TARGET_MS = 400.0
SIZE = (4000, 3000)


def twelve_megapixels(seed: int = 11) -> np.ndarray:
    """A 4000×3000 Display P3 frame with the portrait's face filling a third of its width,
    like an iPhone selfie at arm's length, with sensor-like noise."""
    portrait = synthetic.srgb_to_display_p3(synthetic.portrait())
    frame = cv2.resize(portrait, (4000, 4000), interpolation=cv2.INTER_CUBIC)[400:3400]
    noise = np.random.default_rng(seed).standard_normal(frame.shape, dtype=np.float32) * 3.0
    return np.clip(frame + noise, 0, 255).astype(np.uint8)


def timed(function: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    print(f"  {label:<44} median {median:8.1f} ms   spread {min(times):.1f}–{max(times):.1f} ms"
          f"   ({len(times)} rounds)")
    return median


def decode_reduced(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (image.width // 4, image.height // 4))
    return np.asarray(image.convert("RGB"))


def naive(data: bytes) -> float:
    from skimage import color

    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    return float(color.rgb2lab(rgb)[..., 1].mean())


def intake(data: bytes, directory: Path) -> None:
    processed = process_upload(data)
    assert processed.analysis is not None
    assert processed.analysis.redness is not None, processed.analysis.quality.codes
    accepted = processed.accepted
    (directory / f"original.{accepted.extension}").write_bytes(accepted.data)
    for copy in processed.derivatives:
        (directory / f"{copy.name}.jpg").write_bytes(copy.data)


_MEMORY_PROBE = """
import io, json, sys, tracemalloc
from PIL import Image
from needlecare.imaging.analysis import analyse_photo
data = open(sys.argv[1], "rb").read()
small = io.BytesIO()
Image.new("RGB", (640, 480), (180, 140, 120)).save(small, "JPEG")
analyse_photo(small.getvalue())  # loads the libraries and the Face Mesh graph, not 12 MP

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)

open("/proc/self/clear_refs", "w").write("5")  # reset the high-water mark to the current RSS
before = status("VmRSS")
tracemalloc.start()
analysis = analyse_photo(data)
python_peak = tracemalloc.get_traced_memory()[1] / 2**20
assert analysis.redness is not None, analysis.quality.codes
print(json.dumps({"rss_before": before, "hwm_after": status("VmHWM"),
                  "python_peak": python_peak}))
"""


def peak_memory_mb(data: bytes) -> dict[str, float]:
    with tempfile.NamedTemporaryFile(suffix=".jpg") as handle:
        handle.write(data)
        handle.flush()
        result = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, handle.name],
                                capture_output=True, text=True, check=True, timeout=300,
                                env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _django(var_dir: Path) -> None:
    """Django on a fresh SQLite database and media folder in ``var_dir``."""
    os.environ["NEEDLECARE_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "needlecare.settings")
    # Imported here: the pure measurements above run without Django.
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def django_upload_path(jpeg: bytes, heic: bytes, rounds: int) -> dict[str, list[float]]:
    """The upload through the services, as the web form and the API call it."""
    # Imported here: these need Django set up first (``_django``).
    from appserver import make_links
    from needlecare.access import Actor
    from needlecare.accounts.models import User
    from needlecare.care.services import sign_consent
    from needlecare.photos import jobs
    from needlecare.photos.services import Upload, add_checkin_photo, upload_photos
    from needlecare.recovery.links import current_session
    from needlecare.recovery.models import PatientLink
    from needlecare.recovery.services import submit_checkin

    make_links(1)  # a clinic, its owner, a patient with a signed session and its link
    link = PatientLink.objects.select_related("patient").get()
    staff = Actor(user=User.objects.get(username="bench.owner"))
    patient_id = link.patient_id
    sign_consent(staff, patient_id, kind="photos", signed_name=link.patient.full_name,
                 understood=True, photo_uses=["clinical_record", "shown_to_patient"])
    session = current_session(patient_id)
    assert session is not None
    upload_photos(staff, patient_id, [Upload(jpeg, "front")], session_id=session.pk)
    jobs.run_due("bench")  # a measured baseline, and the Face Mesh graph loaded
    patient = Actor.for_link(link)
    checkin = submit_checkin(patient, {"symptoms": {}, "red_flags": {}, "note": ""}).checkin

    def patient_path(data: bytes) -> None:
        added = add_checkin_photo(patient, checkin.pk, Upload(data, "front"))
        assert added.photo.quality_passed, added.photo.quality

    def staff_path() -> None:
        upload_photos(staff, patient_id, [Upload(jpeg, "front")])
        assert jobs.run_due("bench") == 1

    def without_measurement() -> None:
        upload_photos(staff, patient_id, [Upload(jpeg, "front")])

    times: dict[str, list[float]] = {"patient": [], "staff": [], "unmeasured": []}
    for _ in range(rounds):
        times["patient"] += timed(lambda: patient_path(jpeg), 1)
        times["staff"] += timed(staff_path, 1)
        times["unmeasured"] += timed(without_measurement, 1)
        jobs.run_due("bench")  # that photo's analysis, untimed, so the next staff job is alone
    times["heic"] = timed(lambda: patient_path(heic), max(1, rounds // 3))
    return times


def main(argv: Sequence[str] | None = None) -> int:
    quick = os.environ.get("BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5 if quick else 15)
    parser.add_argument("--naive-rounds", type=int, default=1 if quick else 3)
    args = parser.parse_args(argv)

    p3 = twelve_megapixels()
    jpeg = synthetic.encode(p3, icc=synthetic.display_p3_profile(), quality=92)
    stored = accept_image(jpeg).data
    print(f"photos: 12-MP Display P3 JPEG, {len(jpeg) / 2**20:.1f} MB, {SIZE[0]}×{SIZE[1]}"
          f"{' (quick run)' if quick else ''}")
    analysis = analyse_photo(stored)  # warm-up: loads the Face Mesh graph
    if analysis.redness is None:
        print(f"the benchmark photo failed quality: {analysis.quality.codes}", file=sys.stderr)
        return 1

    # Decode and measurement interleaved, so a noisy neighbour slows both alike.
    decode_times: list[float] = []
    measure_times: list[float] = []
    for _ in range(args.rounds):
        decode_times += timed(lambda: decode_reduced(stored), 1)
        measure_times += timed(lambda: analyse_photo(stored), 1)
    print("side by side, one run:")
    decode_ms = summary("decode at 1/4 scale (floor)", decode_times)
    measure_ms = summary("measurement (decode+colour+landmarks+stats)", measure_times)
    naive_ms = summary("naive (full decode + skimage rgb2lab)",
                       timed(lambda: naive(stored), args.naive_rounds))
    ratio = measure_ms / decode_ms
    speedup = naive_ms / measure_ms

    memory = peak_memory_mb(stored)
    analysis_peak = memory["hwm_after"] - memory["rss_before"]
    print(f"  peak memory of one analysis: {analysis_peak:.0f} MB above the process before it "
          f"({memory['rss_before']:.0f} MB, libraries and Face Mesh loaded); Python/numpy "
          f"allocations alone: {memory['python_peak']:.0f} MB")

    # The measurement inside the intake: intake decodes once (at the screen copy's scale) and
    # the measurement starts from those pixels; with and without it, interleaved.
    measured_times: list[float] = []
    unmeasured_times: list[float] = []
    for _ in range(args.rounds):
        measured_times += timed(lambda: process_upload(jpeg), 1)
        unmeasured_times += timed(lambda: process_upload(jpeg, measure_now=False), 1)
    summary("process_upload with the measurement", measured_times)
    summary("process_upload, measurement left out", unmeasured_times)
    marginal_ms = max(0.0, statistics.median(measured_times)
                      - statistics.median(unmeasured_times))
    in_upload_ratio = (decode_ms + marginal_ms) / decode_ms
    print(f"  measurement inside the intake: {marginal_ms:.0f} ms beyond it (the decode is "
          f"shared) = {marginal_ms / decode_ms:.2f}x a {decode_ms:.0f} ms decode at 1/4 scale")

    with tempfile.TemporaryDirectory() as directory:
        intake_ms = summary("intake path, 12-MP JPEG",
                            timed(lambda: intake(jpeg, Path(directory)), args.rounds))
        # x265's fastest preset: its default one takes minutes for 12 MP on two cores.
        heic = synthetic.encode(p3, "HEIF", icc=synthetic.display_p3_profile(), quality=85,
                                enc_params={"preset": "ultrafast"})
        heic_ms = summary("intake path, 12-MP HEIC (no target)",
                          timed(lambda: intake(heic, Path(directory)), max(1, args.rounds // 3)))

    print(f"HEIC: {heic_ms:.0f} ms per 12-MP photo (HEVC decoding; reported, no target)")

    with tempfile.TemporaryDirectory(prefix="needlecare-bench-photos-") as var_dir:
        _django(Path(var_dir))
        # A quick run measures the Django path twice: it migrates a database first.
        django_times = django_upload_path(jpeg, heic, 2 if quick else args.rounds)
    print("whole upload path through Django (SQLite, files through default_storage):")
    django_ms = summary("patient's photo with a check-in, 12-MP JPEG", django_times["patient"])
    summary("staff photo + the worker's analysis job", django_times["staff"])
    unmeasured_ms = summary("staff photo, analysis not yet run", django_times["unmeasured"])
    django_heic_ms = summary("patient's photo, 12-MP HEIC (no target)", django_times["heic"])
    print(f"  Django's own share (access, rows, audit, baseline, triage): "
          f"{max(0.0, django_ms - intake_ms):.0f} ms over the pure intake path; the staff "
          f"path without its job: {unmeasured_ms:.0f} ms")
    print(f"HEIC through Django: {django_heic_ms:.0f} ms (reported, no target)")
    print(machine_load())
    results = [
        ("photos-measure-vs-decode", f"{ratio:.2f}x the decode", f"<= {RATIO_TARGET}x",
         ratio <= RATIO_TARGET),
        ("photos-measure-vs-naive", f"{speedup:.0f}x faster", f">= {SPEEDUP_TARGET:.0f}x",
         speedup >= SPEEDUP_TARGET),
        ("photos-analysis-peak-memory", f"{analysis_peak:.0f} MB",
         f"< {MEMORY_TARGET_MB:.0f} MB", analysis_peak < MEMORY_TARGET_MB),
        ("photos-intake-12mp-jpeg", f"{intake_ms:.0f} ms", f"< {INTAKE_TARGET_MS:.0f} ms",
         intake_ms < INTAKE_TARGET_MS),
        ("photos-upload-through-django-12mp-jpeg", f"{django_ms:.0f} ms",
         f"< {INTAKE_TARGET_MS:.0f} ms", django_ms < INTAKE_TARGET_MS),
        ("photos-measure-in-upload-vs-decode", f"{in_upload_ratio:.2f}x the decode",
         f"<= {RATIO_TARGET}x", in_upload_ratio <= RATIO_TARGET),
    ]
    for name, figure, target, ok in results:
        print(target_line(name, figure, target, ok))
    return 0


if __name__ == "__main__":
    sys.exit(main())
