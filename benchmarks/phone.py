"""The patient's phone journey on an emulated slow 4G network, step by step, against the physical
limit of each step.

Run with ``make bench`` or ``python benchmarks/phone.py`` (``BENCH_QUICK=1`` for a smoke run).

The script builds a fresh SQLite database in a temporary directory (migrated, with signed
sessions and personal links made through the services), collects the static files and serves
the product's settings with DEBUG off (hashed static names, gzip) through gunicorn (2 sync
workers) on loopback, as ``needlecare serve`` does. Debian's Chromium (/usr/bin/chromium,
through Playwright; never Playwright's own download), as a 360 px phone with an empty cache,
walks the journey with CDP network emulation (150 ms latency, 1.6 Mbit/s down, 750 kbit/s up):

1. open link: the personal link redirects to the date-of-birth page (and its stylesheet);
2. date of birth: the form is sent and the home page (with today's aftercare and the check-in
   form) opens;
3. check-in: the check-in is sent and its result page opens.

Each step's time is the browser's own Navigation Timing (navigation start to the end of the
load event, redirects included). Its physical limit is round trips × latency + bytes down /
download rate + bytes up / upload rate, with the bytes that crossed the network (headers
included, from CDP) and the round trips of the critical path: one per document request (the
redirect and the page) plus one for the subresources the page needs, loaded side by side.
A redirect is a round trip of the step (answering a form with a redirect, so that a reload
never sends it twice, is deliberate); the list of transfers shows each, so a needless one
stands out. The server's own time (waiting beyond the latency) and the rest (the browser's own
work) are printed beside the ratio.
Chromium's emulation applies its latency to each request and not to the TCP handshake, so
the script counts the handshake itself: one round trip on the first step, both in the limit and
added to the measured time (afterwards a real phone reuses its connection to the proxy, which
keeps it alive; gunicorn behind it closes each one, on loopback, at no emulated cost). TLS
would add a round trip on a real network on both sides; it is left out of both. Target: each
step within 1.3× its limit (median of the rounds), so what remains is the server's own time and
nothing wasted on the way (an extra redirect, a stylesheet revalidated, an uncompressed page).
A warm-up journey without emulation runs first, so that the workers have loaded everything.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appserver import DOB, cap, collect_static, gunicorn, make_links
from targets import machine_load, quick, spread, target_line

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
# As the engineering notes and the browser tests launch it.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"width": 360, "height": 800}
LATENCY_MS = 150.0
DOWN_KBIT_S = 1600.0
UP_KBIT_S = 750.0
TARGET = 1.3
STEPS = ("open link → date-of-birth page", "date of birth → home", "check-in → result")


# --- what crossed the network, from the DevTools protocol --------------------------------------

@dataclass
class Transfer:
    """One HTTP exchange (a redirect hop is its own)."""

    url: str
    method: str
    kind: str  # Document, Stylesheet, ...
    header_bytes: int = 0  # the request line and headers
    body_bytes: int = 0
    received: int = 0  # the response, headers included, as it crossed the network
    wait_ms: float = 0.0  # request sent → response headers in: latency + the server's time
    status: int = 0
    cached: bool = False

    @property
    def sent(self) -> int:
        return self.header_bytes + self.body_bytes


def _wait_ms(response: dict[str, Any]) -> float:
    timing = response.get("timing") or {}
    if "receiveHeadersEnd" not in timing or "sendEnd" not in timing:
        return 0.0
    return float(timing["receiveHeadersEnd"] - timing["sendEnd"])


def _request_size(method: str, url: str, headers: dict[str, str]) -> int:
    line = f"{method} {urllib.parse.urlsplit(url).path} HTTP/1.1\r\n"
    return len(line) + sum(len(k) + len(v) + 4 for k, v in headers.items()) + 2


@dataclass
class Recorder:
    transfers: list[Transfer] = field(default_factory=list)
    current: dict[str, Transfer] = field(default_factory=dict)

    def attach(self, cdp: Any) -> None:
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestWillBeSentExtraInfo", self._extra)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.requestServedFromCache", self._from_cache)
        cdp.on("Network.loadingFinished", self._finished)

    def take(self) -> list[Transfer]:
        taken, self.transfers = self.transfers, []
        return taken

    def _sent(self, event: dict[str, Any]) -> None:
        request_id = event["requestId"]
        previous = self.current.get(request_id)
        if previous is not None and "redirectResponse" in event:
            hop = event["redirectResponse"]
            previous.status = hop["status"]
            previous.received = int(hop.get("encodedDataLength", 0))
            previous.wait_ms = _wait_ms(hop)
            self.transfers.append(previous)
        request = event["request"]
        entries = request.get("postDataEntries", [])
        body = (sum(len(e.get("bytes", "")) * 3 // 4 for e in entries) if entries
                else len(request.get("postData", "").encode()))
        self.current[request_id] = Transfer(
            url=request["url"], method=request["method"], kind=event.get("type", ""),
            header_bytes=_request_size(request["method"], request["url"],
                                       request.get("headers", {})),
            body_bytes=body)

    def _extra(self, event: dict[str, Any]) -> None:
        # The headers as really sent (cookies included), when Chromium reports them.
        transfer = self.current.get(event["requestId"])
        if transfer is not None and event.get("headers"):
            transfer.header_bytes = _request_size(transfer.method, transfer.url,
                                                  event["headers"])

    def _response(self, event: dict[str, Any]) -> None:
        transfer = self.current.get(event["requestId"])
        if transfer is not None:
            transfer.status = event["response"]["status"]
            transfer.wait_ms = _wait_ms(event["response"])
            if event["response"].get("fromDiskCache") or event["response"].get(
                    "fromPrefetchCache"):
                transfer.cached = True

    def _from_cache(self, event: dict[str, Any]) -> None:
        transfer = self.current.get(event["requestId"])
        if transfer is not None:
            transfer.cached = True

    def _finished(self, event: dict[str, Any]) -> None:
        transfer = self.current.pop(event["requestId"], None)
        if transfer is not None:
            transfer.received = int(event.get("encodedDataLength", 0))
            self.transfers.append(transfer)


@dataclass
class Step:
    name: str
    measured_ms: float
    html_bytes: int
    html_wire_bytes: int
    transfers: list[Transfer]
    handshakes: int

    @property
    def on_network(self) -> list[Transfer]:
        return [t for t in self.transfers if not t.cached]

    @property
    def round_trips(self) -> int:
        documents = sum(1 for t in self.on_network if t.kind == "Document")
        subresources = any(t.kind != "Document" for t in self.on_network)
        return self.handshakes + documents + int(subresources)

    def limit_ms(self, latency: float, down_kbit: float, up_kbit: float) -> float:
        received = sum(t.received for t in self.on_network)
        sent = sum(t.sent for t in self.on_network)
        return self.round_trips * latency + received * 8 / down_kbit + sent * 8 / up_kbit

    def server_ms(self, latency: float) -> float:
        """Time spent waiting for answers beyond the emulated latency, on the critical path:
        the server's work (and the machine's load), which no network could save."""
        documents = [t.wait_ms for t in self.on_network if t.kind == "Document"]
        others = [t.wait_ms for t in self.on_network if t.kind != "Document"]
        return sum(max(0.0, w - latency) for w in documents) + max(
            (max(0.0, w - latency) for w in others), default=0.0)

    def summary(self, latency: float, down_kbit: float, up_kbit: float) -> dict[str, Any]:
        # The handshake the emulation did not charge, added as the limit counts it.
        real_ms = self.measured_ms + self.handshakes * latency
        limit = self.limit_ms(latency, down_kbit, up_kbit)
        return {"name": self.name, "measured_ms": self.measured_ms, "real_ms": real_ms,
                "limit_ms": limit, "ratio": real_ms / limit, "round_trips": self.round_trips,
                "server_ms": self.server_ms(latency), "html": self.html_bytes,
                "html_wire": self.html_wire_bytes,
                "received": sum(t.received for t in self.on_network),
                "sent": sum(t.sent for t in self.on_network),
                "transfers": [[t.method, _path(t.url), t.kind, t.status, t.received, t.sent,
                               t.cached, t.wait_ms] for t in self.transfers]}


def _path(url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "p":
        parts[2] = "<token>"  # the personal link's key stays out of the output
    return "/".join(parts)


# --- the journey ---------------------------------------------------------------------------

def _navigation(page: Any) -> tuple[float, int, int]:
    """The step's time (navigation start to the end of the load event) and the page's HTML,
    as decoded and as it crossed the network."""
    entry = page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return n ? [n.loadEventEnd, n.decodedBodySize, n.encodedBodySize] : [-1, 0, 0]; }")
    if entry[0] <= 0:
        raise RuntimeError("the page reported no navigation timing")
    return float(entry[0]), int(entry[1]), int(entry[2])


def journey(browser: Any, base: str, token: str, emulate: bool, number: int,
            latency: float, down_kbit: float, up_kbit: float) -> list[Step]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale="en-GB",
                                  timezone_id="Europe/London")
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        if emulate:
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": latency,
                "downloadThroughput": down_kbit * 1000 / 8,
                "uploadThroughput": up_kbit * 1000 / 8})
        recorder = Recorder()
        recorder.attach(cdp)
        steps: list[Step] = []

        page.goto(f"{base}/p/{token}/", wait_until="load")
        _expect(page, "/verify/")
        steps.append(Step(STEPS[0], *_navigation(page), recorder.take(), handshakes=1))

        page.get_by_label("Day").fill(str(DOB.day))
        page.get_by_label("Month").select_option(str(DOB.month))
        page.get_by_label("Year").fill(str(DOB.year))
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Continue").click()
        _expect(page, f"/p/{token}/")
        steps.append(Step(STEPS[1], *_navigation(page), recorder.take(), handshakes=0))

        # A normal day-0 check-in, different in each journey (the link is new anyway): no
        # warning sign, redness on the 0-10 scale, better than yesterday.
        page.locator("input[name=flags][value=none]").check()
        page.locator(f"input[name=redness_severity][value='{1 + number % 5}']").check()
        page.locator("input[name=redness_trend][value=better]").check()
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Send to the clinic").click()
        _expect(page, "/checkins/")
        steps.append(Step(STEPS[2], *_navigation(page), recorder.take(), handshakes=0))
        return steps
    finally:
        context.close()


def _expect(page: Any, fragment: str) -> None:
    if fragment not in page.url:
        raise RuntimeError(f"expected a page at …{fragment}, got {_path(page.url)}")


# --- the run -----------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium package")
    workdir = Path(tempfile.mkdtemp(prefix="needlecare-phone-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"NEEDLECARE_VAR_DIR": str(workdir), "NEEDLECARE_DEBUG": "0",
                "NEEDLECARE_ENV": "development", "NEEDLECARE_LOG_LEVEL": "ERROR",
                "DJANGO_SETTINGS_MODULE": "needlecare.settings"})
    try:
        subprocess.run([sys.executable, "-m", "needlecare", "migrate", "-v", "0"], env=env,
                       check=True, cwd=workdir)
        made = subprocess.run([sys.executable, __file__, "--prepare", str(args.rounds + 1)],
                              env=env, check=True, cwd=workdir, capture_output=True, text=True)
        tokens: list[str] = json.loads(made.stdout)
        collect_static(workdir)
        with gunicorn(env, workdir) as (port, _pid), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                 args=CHROMIUM_ARGS)
            base = f"http://127.0.0.1:{port}"
            journey(browser, base, tokens[0], False, 0, args.latency, args.down, args.up)
            rounds = []
            for number, token in enumerate(tokens[1:], start=1):
                steps = journey(browser, base, token, True, number, args.latency, args.down,
                                args.up)
                rounds.append([s.summary(args.latency, args.down, args.up) for s in steps])
            browser.close()
        return {"rounds": rounds}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report(result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    rounds = result["rounds"]
    lines = [f"phone journey: Chromium 360 px, emulated {args.latency:g} ms latency, "
             f"{args.down:g} kbit/s down, {args.up:g} kbit/s up; {len(rounds)} round(s), "
             "median [min–max]; the TCP handshake (1 round trip on the first step) added to "
             "the measured time and counted in the limit",
             f"  {'step':<33}{'measured ms':>20}{'limit ms':>10}{'ratio':>22}"
             f"{'round trips':>13}{'bytes down':>12}{'up':>7}{'server ms':>11}"
             f"{'other ms':>10}"]
    verdicts = []
    for index, name in enumerate(STEPS):
        rows = [r[index] for r in rounds]
        ratios = [row["ratio"] for row in rows]
        other = statistics.median(r["real_ms"] - r["limit_ms"] - r["server_ms"] for r in rows)
        limit = statistics.median(row["limit_ms"] for row in rows)
        lines.append(
            f"  {name:<33}{spread([row['real_ms'] for row in rows], '{:.0f}'):>20}"
            f"{limit:>10.0f}{spread(ratios, '×{:.2f}'):>22}"
            f"{statistics.median(row['round_trips'] for row in rows):>13.0f}"
            f"{statistics.median(row['received'] for row in rows):>12,.0f}"
            f"{statistics.median(row['sent'] for row in rows):>7,.0f}"
            f"{statistics.median(row['server_ms'] for row in rows):>11.0f}"
            f"{other:>10.0f}")
        verdicts.append(target_line(f"phone step {name}",
                                    f"×{statistics.median(ratios):.2f} its physical limit",
                                    f"<= ×{TARGET:g}", statistics.median(ratios) <= TARGET))
    lines.append("  server ms: waiting for answers beyond the latency, on the critical path; "
                 "other ms: the rest above the limit (the browser's own work, the emulation's "
                 "granularity)")
    lines.append("  the pages' HTML, as generated → as sent: " + ", ".join(
        f"{row['html']:,} → {row['html_wire']:,} bytes" for row in rounds[0]))
    lines.append("  what crossed the network in the first round (method path type status "
                 "bytes down/up, wait for the answer's headers):")
    for index, name in enumerate(STEPS):
        lines.append(f"    {name}:")
        for method, path, kind, status, received, sent, cached, wait in rounds[0][index][
                "transfers"]:
            where = " from the cache" if cached else f" answered after {wait:.0f} ms"
            lines.append(f"      {method:<5}{path:<48}{kind:<12}{status:>4}{received:>8,}"
                         f"{sent:>7,}{where}")
    return lines + verdicts


def main(argv: Sequence[str] | None = None) -> int:
    smoke = quick()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=1 if smoke else 5,
                        help="journeys with emulation, each with a new link and phone "
                             "(default 5)")
    parser.add_argument("--latency", type=float, default=LATENCY_MS,
                        help="emulated latency, ms (default 150)")
    parser.add_argument("--down", type=float, default=DOWN_KBIT_S,
                        help="emulated download rate, kbit/s (default 1600)")
    parser.add_argument("--up", type=float, default=UP_KBIT_S,
                        help="emulated upload rate, kbit/s (default 750)")
    parser.add_argument("--cap", type=int, default=300,
                        help="hard cap on the run, in seconds (default 300)")
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # tests/postgres.py's free-port helper

    if args.prepare:
        import django

        django.setup()
        print(json.dumps(make_links(args.prepare)))
        return 0
    cap(args.cap)
    began = time.perf_counter()
    result = run(args)
    print("\n".join(report(result, args)))
    print(f"  (the run took {time.perf_counter() - began:.0f} s; {machine_load()}"
          + ("; BENCH_QUICK: a smoke run, figures not meaningful)" if smoke else ")"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
