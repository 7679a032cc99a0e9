"""bcm-local benchmarks: one command, one markdown table, baselines measured in the same run.

    python benchmarks/run.py [--quick] [--only startup,api,s3,export,emission]

Prints the table and writes it, with the machine's description, to
benchmarks/results/<date>.md. Each figure is the median of repeated runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bcm_local.testing import export_body  # noqa: E402
from benchmarks import loadgen, report, servers, wrk  # noqa: E402

Row = tuple[str, str, str, str]  # what, bcm-local, baseline, ratio/goal


def _median(fn: Callable[[], float], repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def startup(repeat: int) -> list[Row]:
    def bcm() -> tuple[float, float]:
        child, seconds = servers.start(
            "bcm-local", servers.bcm_local_cmd, servers.list_exports_probe
        )
        rss = child.rss_mib()
        child.stop()
        return seconds, rss

    def moto() -> tuple[float, float]:
        child, seconds = servers.start("moto", servers.moto_cmd, servers.list_buckets_probe)
        rss = child.rss_mib()
        child.stop()
        return seconds, rss

    ours = [bcm() for _ in range(repeat)]
    theirs = [moto() for _ in range(repeat)]
    floor = _median(servers.python_floor, repeat)
    start_ours = statistics.median(s for s, _ in ours)
    start_moto = statistics.median(s for s, _ in theirs)
    rss_ours = statistics.median(r for _, r in ours)
    rss_moto = statistics.median(r for _, r in theirs)
    return [
        (
            "cold start → first ListExports / ListBuckets (s)",
            f"{start_ours:.3f}",
            f"moto {start_moto:.3f}; `python -c pass` {floor:.3f}",
            f"{start_moto / start_ours:.1f}x faster than moto (goal ≤ 0.3 s, ≥ 3x)",
        ),
        (
            "idle RSS after start (MiB)",
            f"{rss_ours:.1f}",
            f"moto {rss_moto:.1f}",
            f"{rss_moto / rss_ours:.1f}x less (goal ≤ 60 MiB)",
        ),
    ]


def _export_body(name: str) -> bytes:
    return json.dumps({"Export": export_body(name, bucket="bench", prefix="p")}).encode()


def _target(op: str) -> str:
    return f"AWSBillingAndCostManagementDataExports.{op}"


def api(seconds: float) -> list[Row]:
    env = {"FLOCI_SERVICES_BCM_DATA_EXPORTS_EMIT_MODE": "off", "BCM_LOCAL_DATA_EXPORTS_QUOTAS": ""}
    child, _ = servers.start("bcm-local", servers.bcm_local_cmd, servers.list_exports_probe, env)
    ep = child.endpoint
    try:
        for i in range(100):
            loadgen.once(
                ep,
                loadgen.json_call(
                    ep, _target("CreateExport"), _export_body(f"seed-{i}"), "bcm-data-exports"
                ),
            )
        arn = "arn:aws:bcm-data-exports:us-east-1:000000000000:export/seed-0"
        get = loadgen.json_call(
            ep, _target("GetExport"), json.dumps({"ExportArn": arn}).encode(), "bcm-data-exports"
        )
        lst = loadgen.json_call(
            ep, _target("ListExports"), b'{"MaxResults": 100}', "bcm-data-exports"
        )

        names = itertools.count()  # unique across the 1/8/32-client runs

        def create(i: int) -> bytes:
            return loadgen.json_call(
                ep,
                _target("CreateExport"),
                _export_body(f"b-{next(names)}"),
                "bcm-data-exports",
            )

        rows: list[Row] = []
        for label, reqs in (
            ("GetExport", [get]),
            ("ListExports (100 exports)", [lst]),
            ("CreateExport (emit off)", create),
        ):
            for clients in (1, 8, 32):
                r = loadgen.run(ep, reqs, clients, seconds)
                goal = (
                    "goal ≥ 3,000/s, p99 < 20 ms" if label == "GetExport" and clients == 8 else ""
                )
                rows.append(
                    (
                        f"{label}, {clients} clients: req/s (p50 / p99 ms)",
                        f"{r.rps:,.0f} ({r.p50:.2f} / {r.pct(0.99):.2f}){' ERR' * bool(r.errors)}",
                        "—",
                        goal,
                    )
                )
        return rows
    finally:
        child.stop()


S3_LABELS = {  # label: body bytes (0: a listing, whose MB/s is the answers' bytes)
    "PutObject 4 KiB": 4096,
    "GetObject 4 KiB": 4096,
    "PutObject 8 MiB": 8 << 20,
    "GetObject 8 MiB": 8 << 20,
    "ListObjectsV2 (1,000 keys)": 0,
}
S3_CONNECTIONS = 16


def _s3_workload(ep: str, label: str, seconds: float, repeat: int) -> tuple[wrk.WrkResult, float]:
    """The median of `repeat` wrk runs, and its payload MB/s."""
    loadgen.once(ep, loadgen.signed("PUT", ep + "/bench"))
    size = S3_LABELS[label]
    body = os.urandom(size)
    if label.startswith("ListObjectsV2"):
        for i in range(1000):
            loadgen.once(ep, loadgen.signed("PUT", f"{ep}/bench/list/{i:04d}", b"x"))
        request: tuple[str, str, bytes] = ("GET", ep + "/bench?list-type=2&prefix=list/", b"")
    elif label.startswith("PutObject"):
        request = ("PUT", f"{ep}/bench/obj", body)
    else:
        loadgen.once(ep, loadgen.signed("PUT", f"{ep}/bench/obj", body))
        request = ("GET", f"{ep}/bench/obj", b"")
    runs = [wrk.run(*request, seconds=seconds, connections=S3_CONNECTIONS) for _ in range(repeat)]
    best = sorted(runs, key=lambda r: r.rps)[len(runs) // 2]
    moved = best.rps * size if size else best.bytes_read / best.seconds
    return best, moved / 1e6


def _ceiling_cmd(port: int) -> list[str]:
    return [sys.executable, str(ROOT / "benchmarks" / "ceiling.py"), str(port)]


def s3(seconds: float, repeat: int) -> list[Row]:
    """bcm-local next to moto; for 8 MiB bodies also next to the machine's ceiling (a bare
    uvloop server, benchmarks/ceiling.py)."""
    if not wrk.available():
        raise SystemExit("the S3 rows need wrk: apt-get install wrk (make bench does)")
    rows: list[Row] = []
    for label in S3_LABELS:
        results = {}
        contenders = [
            ("bcm-local", servers.bcm_local_cmd, servers.list_exports_probe),
            ("moto", servers.moto_cmd, servers.list_buckets_probe),
        ]
        if "8 MiB" in label:
            contenders.append(("bare server", _ceiling_cmd, servers.list_buckets_probe))
        for name, cmd, probe in contenders:
            child, _ = servers.start(name, cmd, probe)
            try:
                results[name] = _s3_workload(child.endpoint, label, seconds, repeat)
            finally:
                child.stop()
        (ours, ours_mb), (moto, moto_mb) = results["bcm-local"], results["moto"]
        baseline = "moto " + _wrk_cell(moto, moto_mb)
        ratio = f"{ours.rps / moto.rps if moto.rps else float('inf'):.1f}x moto"
        if "bare server" in results:
            bare, bare_mb = results["bare server"]
            baseline += "; bare uvloop server (the ceiling) " + _wrk_cell(bare, bare_mb)
            ratio += f", {ours.rps / bare.rps:.0%} of the ceiling"
        rows.append(
            (
                f"S3 {label}, {S3_CONNECTIONS} connections (wrk): ok req/s (MB/s; p50 / p99 ms)",
                _wrk_cell(ours, ours_mb),
                baseline,
                f"{ratio} (goal ≥ 10x moto)",
            )
        )
    return rows


def _wrk_cell(r: wrk.WrkResult, mb: float) -> str:
    failed = f", {r.failed:,} failed" if r.failed else ""
    return f"{r.rps:,.0f} ({mb:,.1f} MB/s; {r.p50_ms:.2f} / {r.p99_ms:.2f}{failed})"


def export(repeat: int) -> list[Row]:
    child, _ = servers.start("bcm-local", servers.bcm_local_cmd, servers.list_exports_probe)
    ep = child.endpoint
    try:
        loadgen.once(ep, loadgen.signed("PUT", ep + "/bench"))
        times = []
        for i in range(repeat):
            req = loadgen.json_call(
                ep, _target("CreateExport"), _export_body(f"sync-{i}"), "bcm-data-exports"
            )
            status, elapsed = loadgen.once(ep, req)
            if status != 200:
                raise RuntimeError(f"synchronous CreateExport failed: {status}")
            times.append(elapsed)
        med = statistics.median(times) * 1000
        return [
            (
                "synchronous CreateExport, default scenario, end to end (ms)",
                f"{med:.0f}",
                "—",
                "goal < 300 ms",
            )
        ]
    finally:
        child.stop()


def emission(quick: bool) -> list[Row]:
    script = ROOT / "benchmarks" / "emission.py"
    if not script.exists():
        return [("emission", "not built yet", "", "")]
    args = [sys.executable, str(script), "--markdown-rows"] + (["--quick"] if quick else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [
        tuple(c.strip() for c in line.strip("|").split("|"))  # type: ignore[misc]
        for line in out.splitlines()
        if line.startswith("|")
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (smoke check)")
    parser.add_argument("--only", default="startup,api,s3,export,emission")
    args = parser.parse_args()
    seconds, repeat = (1.0, 3) if args.quick else (3.0, 5)
    sections: dict[str, Callable[[], list[Row]]] = {
        "startup": lambda: startup(repeat),
        "api": lambda: api(seconds),
        "s3": lambda: s3(seconds, 1 if args.quick else 3),
        "export": lambda: export(repeat),
        "emission": lambda: emission(args.quick),
    }
    rows: list[Row] = []
    for name in args.only.split(","):
        rows += sections[name]()
    text = report.markdown_table(rows)
    print(text)
    software = f"{platform.system()} {platform.release()}"
    report.write(f"{dt.date.today()}.md", "bcm-local benchmarks", report.machine(software), text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
