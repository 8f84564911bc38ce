"""Run a command against a throwaway PostgreSQL cluster on loopback.

    python tests/postgres.py pytest tests/web

Uses DATABASE_URL when it already points at PostgreSQL. Otherwise it starts a private cluster
with the machine's PostgreSQL binaries in a temporary directory (as the ``postgres`` user when
run as root: the server refuses to run as root), runs the command with DATABASE_URL set, and
removes the cluster. It fails loudly when neither is possible, so CI never silently skips the
PostgreSQL run.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def main(command: list[str], *, durable: bool = False) -> int:
    """Run ``command`` against the cluster. ``durable`` keeps PostgreSQL's own defaults (fsync,
    synchronous commits, full-page writes) for benchmarks that measure the cost of a commit."""
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return subprocess.call(command)
    bindir = _bindir()
    if bindir is None:
        print("tests/postgres.py: no PostgreSQL server binaries (initdb, pg_ctl) and no "
              "DATABASE_URL; install PostgreSQL or set DATABASE_URL.", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="needlecare-pg-"))
    data = workdir / "data"
    port = _free_port()
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    log = workdir / "server.log"
    try:
        subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                                        "-U", "postgres", "-E", "UTF8", "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL)
        options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c max_connections=60"
        if not durable:
            # fsync off: a throwaway test cluster trades durability for speed.
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
                                        "-l", str(log), "-w", "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        env = {**os.environ,
               "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/needlecare"}
        print(f"tests/postgres.py: throwaway PostgreSQL on 127.0.0.1:{port}", file=sys.stderr)
        return subprocess.call(command, env=env)
    except subprocess.CalledProcessError as exc:
        print(f"tests/postgres.py: could not start PostgreSQL: {exc}", file=sys.stderr)
        if log.exists():
            print(log.read_text(), file=sys.stderr)
        return 1
    finally:
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                        "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
