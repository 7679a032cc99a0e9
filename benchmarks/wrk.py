"""Drive `wrk` (Debian's package; `make bench` installs it) with one botocore-signed
request, replayed over keep-alive by `connections` connections.

wrk is a C load generator: on a 2-core machine a Python client would take a core from
the server under test, so the S3 rows use wrk. The request is signed once with
botocore (`loadgen.signed`) and its headers handed to wrk through a Lua script; neither
bcm-local's default mode nor moto re-verifies signatures, so both see identical bytes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.loadgen import signed

_SCALE = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


@dataclass
class WrkResult:
    requests: int
    failed: int  # non-2xx/3xx answers and socket errors
    seconds: float
    p50_ms: float
    p99_ms: float
    bytes_read: int

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.failed) / self.seconds if self.seconds else 0.0


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua(raw: bytes, body_file: Path) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, path, _ = head[0].split(" ", 2)
    lines = [f"wrk.method = {_quote(method)}", f"wrk.path = {_quote(path)}"]
    for line in head[1:]:
        name, _, value = line.partition(": ")
        if name.lower() not in ("host", "content-length"):
            lines.append(f"wrk.headers[{_quote(name)}] = {_quote(value)}")
    lines.append(f'local f = io.open({_quote(str(body_file))}, "rb")')
    lines.append("wrk.body = f:read('*a'); f:close()")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ms(text: str) -> float:
    found = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(found[1]) * _SCALE[found[2]] if found else float("nan")


def _bytes(text: str) -> int:
    found = re.match(r"([\d.]+)([KMGT]?B)", text)
    if not found:
        return 0
    units = {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}
    return int(float(found[1]) * units[found[2]])


def parse(out: str) -> WrkResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m), ([\d.]+\w+) read", out)
    if total is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    seconds = float(total[2]) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[total[3]]
    failed = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
        out,
    )
    if sockets:
        failed += sum(int(n) for n in sockets.groups())
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    return WrkResult(
        int(total[1]),
        min(failed, int(total[1])),
        seconds,
        _ms(p50[1]) if p50 else float("nan"),
        _ms(p99[1]) if p99 else float("nan"),
        _bytes(total[4]),
    )


def run(
    method: str, url: str, body: bytes = b"", seconds: float = 3.0, connections: int = 16
) -> WrkResult:
    """Load `url` with one signed request for `seconds`."""
    with tempfile.TemporaryDirectory(prefix="bcm-wrk-") as folder:
        body_file = Path(folder) / "body"
        body_file.write_bytes(body)
        script = Path(folder) / "request.lua"
        script.write_text(_lua(signed(method, url, body), body_file))
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
        done = subprocess.run(
            [*command, "--timeout", "10s", "-s", str(script), url],
            capture_output=True,
            text=True,
            check=True,
        )
    return parse(done.stdout)
