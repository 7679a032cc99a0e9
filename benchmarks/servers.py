"""Start the servers under test (bcm-local, moto) as child processes and measure them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from bcm_local.testing import free_port
from benchmarks.loadgen import json_call, signed


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    endpoint: str

    def rss_mib(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _ok(raw: bytes, endpoint: str) -> bool:
    """Send one raw request; True on a 2xx answer."""
    import socket

    host, port = endpoint.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2) as sock:
            sock.sendall(raw)
            head = sock.recv(64)
            return head.split(b" ")[1].startswith(b"2")
    except OSError:
        return False


def bcm_local_cmd(port: int, *extra: str) -> list[str]:
    exe = shutil.which("bcm-local", path=os.path.dirname(sys.executable)) or "bcm-local"
    return [exe, "serve", "--port", str(port), "--log-level", "warning", *extra]


def moto_cmd(port: int) -> list[str]:
    exe = shutil.which("moto_server", path=os.path.dirname(sys.executable))
    if exe is None:
        raise RuntimeError("moto_server not installed: pip install 'moto[server]'")
    return [exe, "-p", str(port)]


def start(
    name: str,
    cmd_for: Callable[[int], list[str]],
    probe: Callable[[str], bytes],
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[Child, float]:
    """Launch and wait until `probe` succeeds; returns the child and seconds to first success."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    raw = probe(endpoint)
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd_for(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    while not _ok(raw, endpoint):
        if proc.poll() is not None or time.perf_counter() - started > timeout:
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.002)
    return Child(name, proc, endpoint), time.perf_counter() - started


def list_exports_probe(endpoint: str) -> bytes:
    return json_call(
        endpoint, "AWSBillingAndCostManagementDataExports.ListExports", b"{}", "bcm-data-exports"
    )


def list_buckets_probe(endpoint: str) -> bytes:
    return signed("GET", endpoint + "/")


def python_floor() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def wait_health(endpoint: str) -> None:
    urllib.request.urlopen(endpoint + "/_bcm_local/health", timeout=5).read()
