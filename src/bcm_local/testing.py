"""pytest plugin: run bcm-local for a test suite so no test ever reaches real AWS.

Installed with the package (entry point `pytest11`), it provides the session fixture
`bcm_local_endpoint` (the URL of a fresh emulator on a free port) and sets the AWS
environment variables so boto3 clients built in tests default to it::

    def test_export(bcm_local_endpoint):
        client = boto3.client("bcm-data-exports", endpoint_url=bcm_local_endpoint)

`ServerProcess` is the same launcher for code that needs more control (restarts, kills);
`export_body` builds the `Export` member of a CreateExport request.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """A `bcm-local serve` child process on a free port."""

    def __init__(
        self,
        data_dir: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        self.env = dict(env or {})
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None  # the running server's stderr (its log)
        self.log = ""  # the whole log of the last run, kept by stop()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> ServerProcess:
        cmd = [sys.executable, "-m", "bcm_local", "serve", "--port", str(self.port)]
        if self.data_dir is not None:
            cmd += ["--data-dir", str(self.data_dir)]
        cmd += list(self.args)
        env = {**os.environ, "BCM_LOCAL_LOG_LEVEL": "warning", **self.env}
        # a file, not a pipe: nobody reads a pipe while the server runs, and a server that
        # logs more than the pipe holds (64 KiB) would block on its next log line
        with tempfile.NamedTemporaryFile(
            "wb", prefix="bcm-local-", suffix=".log", delete=False
        ) as log:
            self.log_path = Path(log.name)
            self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
        self._wait_healthy(timeout)
        return self

    def read_log(self) -> str:
        """What the server has logged so far (stderr)."""
        if self.log_path is None:
            return self.log
        return self.log_path.read_text(errors="replace")

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.endpoint + "/_bcm_local/health", timeout=2) as resp:
            result: dict[str, Any] = json.load(resp)
            return result

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                code, err = self.proc.returncode, self.read_log()
                self.stop()
                raise RuntimeError(f"bcm-local exited with {code}: {err}")
            try:
                self.health()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("bcm-local did not become healthy in time")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        if self.log_path is not None:
            self.log = self.read_log()
            self.log_path.unlink(missing_ok=True)
            self.log_path = None
        self.proc = None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def output_configurations(
    fmt: str = "PARQUET", overwrite: str = "OVERWRITE_REPORT"
) -> dict[str, str]:
    """A CUSTOM output in `fmt` with the one compression it allows (TEXT_OR_CSV: GZIP)."""
    return {
        "Format": fmt,
        "Compression": "GZIP" if fmt == "TEXT_OR_CSV" else "PARQUET",
        "OutputType": "CUSTOM",
        "Overwrite": overwrite,
    }


def export_body(
    name: str,
    query: str = "SELECT * FROM COST_AND_USAGE_REPORT",
    *,
    bucket: str = "my-billing",
    prefix: str = "focus",
    fmt: str = "PARQUET",
    tables: dict[str, dict[str, str]] | None = None,
    frequency: str = "SYNCHRONOUS",
    overwrite: str = "OVERWRITE_REPORT",
    description: str | None = None,
) -> dict[str, Any]:
    """An export to S3 in us-east-1; the defaults are the seed's example (focus-monthly).
    `tables` is the query's TableConfigurations."""
    data_query: dict[str, Any] = {"QueryStatement": query}
    if tables is not None:
        data_query["TableConfigurations"] = tables
    described = {} if description is None else {"Description": description}
    return {
        "Name": name,
        **described,
        "DataQuery": data_query,
        "DestinationConfigurations": {
            "S3Destination": {
                "S3Bucket": bucket,
                "S3Prefix": prefix,
                "S3Region": "us-east-1",
                "S3OutputConfigurations": output_configurations(fmt, overwrite),
            }
        },
        "RefreshCadence": {"Frequency": frequency},
    }


AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def bcm_local_endpoint() -> Iterator[str]:
    """URL of a bcm-local server started for this test session."""
    saved = {k: os.environ.get(k) for k in [*AWS_TEST_ENV, "AWS_ENDPOINT_URL"]}
    with ServerProcess() as server:
        os.environ.update({**AWS_TEST_ENV, "AWS_ENDPOINT_URL": server.endpoint})
        try:
            yield server.endpoint
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
