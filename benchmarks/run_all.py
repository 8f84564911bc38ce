"""Every benchmark, one after the other, then a table of every target with PASS or MISS.

Run with ``make bench`` (or ``make bench-quick``: ``BENCH_QUICK=1``, each benchmark a smoke run
of under a minute, which ``make test`` runs to show that none of them crashes; its figures mean
little and are not asserted).

The benchmarks run in a fixed order (``ORDER``), then any other script in this folder that runs
as a program (a ``__main__`` guard), so that a new benchmark joins the table without a change
here. Each one's output is shown as it comes and its ``TARGET <name>: <figure> (target
<target>) PASS|MISS`` lines are collected. A MISS is a figure, not a failure: the exit status is
non-zero only when a benchmark crashes (non-zero exit, or past its time limit) or prints no
target at all.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from targets import machine_load, quick

HERE = Path(__file__).resolve().parent
ORDER: tuple[tuple[str, ...], ...] = (
    ("clinical_engines.py",),
    ("documents.py",),
    ("outbox.py",),
    ("outbox.py", "--postgres"),
    ("diary.py",),
    ("diary.py", "--postgres"),
    ("scale.py",),
    ("scale.py", "--postgres"),
    ("checkin_load.py",),
    ("phone.py",),
)
GRACE_S = 30.0
TARGET = re.compile(r"^TARGET (?P<name>.+?): (?P<figure>.+) \(target (?P<target>.+)\) "
                    r"(?P<verdict>PASS|MISS)\s*$")


@dataclass
class Run:
    command: tuple[str, ...]
    status: int | None = None
    seconds: float = 0.0
    targets: list[dict[str, str]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return " ".join(self.command).removesuffix(".py").replace(".py ", " ")

    @property
    def crashed(self) -> bool:
        return self.status != 0 or not self.targets


def benchmarks() -> list[tuple[str, ...]]:
    """``ORDER``, then every other script here with a ``__main__`` guard, by name."""
    listed = {command[0] for command in ORDER}
    others = sorted(path.name for path in HERE.glob("*.py")
                    if path.name not in listed and path.name != Path(__file__).name
                    and 'if __name__ == "__main__":' in path.read_text(encoding="utf-8"))
    return [*ORDER, *((name,) for name in others)]


def run(command: tuple[str, ...], limit: float) -> Run:
    result = Run(command)
    print(f"\n=== {result.label} ({machine_load()}) ===", flush=True)
    began = time.perf_counter()
    # A session of its own, so that a benchmark past its limit is stopped with its servers.
    process = subprocess.Popen([sys.executable, str(HERE / command[0]), *command[1:]],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=HERE.parent, start_new_session=True)

    def stop(signum: int, frame: object) -> None:
        # SIGINT first: the benchmarks' clean-up (servers, throwaway clusters, temporary
        # folders) runs on KeyboardInterrupt; whatever is left after a grace period is killed.
        os.killpg(process.pid, signal.SIGINT)
        threading.Timer(GRACE_S, _kill_group, args=(process.pid,)).start()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            found = TARGET.match(line)
            if found:
                result.targets.append(found.groupdict())
        result.status = process.wait()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    result.seconds = time.perf_counter() - began
    if result.status and result.status < 0:
        print(f"{result.label}: stopped after {limit:.0f} s", flush=True)
    return result


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def summary(runs: Sequence[Run], smoke: bool) -> list[str]:
    rows = [(r.label, t["name"], t["figure"], t["target"], t["verdict"])
            for r in runs for t in r.targets]
    rows += [(r.label, "(the benchmark itself)",
              f"exit {r.status}" if r.status else "no TARGET line", "runs to the end",
              "CRASH") for r in runs if r.crashed]
    headers = ("benchmark", "what", "measured", "target", "")
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(5)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    passed = sum(1 for row in rows if row[4] == "PASS")
    lines = ["", "=== summary" + (" (BENCH_QUICK: smoke runs, figures not meaningful)"
                                   if smoke else "") + " ===",
             line.format(*headers), line.format(*("-" * w for w in widths))]
    lines += [line.format(*row).rstrip() for row in rows]
    lines.append(f"{passed} of {len(rows)} targets PASS; "
                 + ", ".join(f"{r.label} {r.seconds:.0f} s" for r in runs))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    smoke = quick()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="run these benchmarks only (file names without .py)")
    parser.add_argument("--limit", type=float, default=240.0 if smoke else 1800.0,
                        help="seconds each benchmark may take (default 240 quick, 1800)")
    args = parser.parse_args(argv)
    chosen = [c for c in benchmarks()
              if not args.only or c[0].removesuffix(".py") in args.only]
    runs = [run(command, args.limit) for command in chosen]
    print("\n".join(summary(runs, smoke)))
    return 1 if any(r.crashed for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
