"""Soak: mixed API and S3 traffic from several clients for a fixed time, watching the server.

    python benchmarks/soak.py [--minutes 10] [--clients 8] [--sample-seconds 15] [--write]

Starts bcm-local with a data directory (real SQLite and object files), seeds a bucket, an
export and a report, then drives `--clients` keep-alive connections (benchmarks/loadgen.py)
through their own request sequences: S3 puts (1 KiB to 256 KiB), gets, listings and
deletes; ListExports, GetExport, ListExecutions, tag/untag, ListTables, GetTable,
DescribeReportDefinitions; and, on two of the clients, whole export and report life
cycles (create with a delivery, update with a delivery, delete). Every `--sample-seconds`
it records the server's RSS and open file descriptors (/proc/<pid>/fd). It stops by
itself, prints the figures, and exits 1 on any error or a file-descriptor leak.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bcm_local.testing import export_body  # noqa: E402
from benchmarks import loadgen  # noqa: E402

BUCKET = "soak-bucket"
BDE = "AWSBillingAndCostManagementDataExports"
CUR = "AWSOrigamiServiceGatewayService"
ENV = {
    "BCM_LOCAL_DATA_EXPORTS_QUOTAS": "",
    "BCM_LOCAL_CUR_REPORT_LIMIT": "100000",
    "BCM_LOCAL_LOG_LEVEL": "warning",
}
FD_SLACK = 3  # descriptors a quiet server may hold open or not at a given instant


def export(name: str, description: str = "") -> dict[str, object]:
    return export_body(name, bucket=BUCKET, prefix="exports", description=description)


def report(name: str, prefix: str = "cur") -> dict[str, object]:
    return {
        "ReportName": name,
        "TimeUnit": "DAILY",
        "Format": "textORcsv",
        "Compression": "GZIP",
        "AdditionalSchemaElements": ["RESOURCES"],
        "S3Bucket": BUCKET,
        "S3Prefix": prefix,
        "S3Region": "us-east-1",
    }


@dataclass
class Sample:
    seconds: float
    rss_mib: float
    fds: int
    requests: int
    errors: int


@dataclass
class Report:
    minutes: float
    clients: int
    requests: int = 0
    errors: int = 0
    failed_slices: int = 0
    samples: list[Sample] = field(default_factory=list)

    @property
    def fd_leak(self) -> int:
        return self.samples[-1].fds - self.samples[0].fds if self.samples else 0

    def summary(self) -> str:
        first, warm, last = (
            self.samples[0],
            self.samples[min(2, len(self.samples) - 1)],
            self.samples[-1],
        )
        peak = max(s.rss_mib for s in self.samples)
        seconds = last.seconds or 1
        return "\n".join(
            [
                f"soak: {last.seconds / 60:.1f} min, {self.clients} clients, "
                f"{self.requests} requests ({self.requests / seconds:.0f}/s), "
                f"{self.errors} errors, {self.failed_slices} failed slices",
                f"RSS MiB: start {first.rss_mib:.1f}, after warm-up {warm.rss_mib:.1f}, "
                f"end {last.rss_mib:.1f}, peak {peak:.1f}",
                f"open fds: start {first.fds}, end {last.fds}",
            ]
        )


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _json(endpoint: str, service: str, prefix: str, operation: str, body: object) -> bytes:
    return loadgen.json_call(endpoint, f"{prefix}.{operation}", json.dumps(body).encode(), service)


def client(k: int, endpoint: str, seed_arn: str) -> Callable[[int], bytes]:
    """Client k's request sequence; step n of it. Each client's life cycles use its own names."""
    s3 = endpoint + f"/{BUCKET}"

    def bde(operation: str, body: object) -> bytes:
        return _json(endpoint, "bcm-data-exports", BDE, operation, body)

    def cur(operation: str, body: object) -> bytes:
        return _json(endpoint, "cur", CUR, operation, body)

    def cheap(n: int) -> bytes:
        size = 1 << (10 + n % 9)  # 1 KiB .. 256 KiB
        mix = [
            lambda: loadgen.signed("PUT", f"{s3}/soak/{k}/{n % 20}", b"s" * size),
            lambda: loadgen.signed("GET", f"{s3}/seed/{n % 10}"),
            lambda: loadgen.signed("GET", f"{s3}?list-type=2&prefix=soak/{k}/"),
            lambda: loadgen.signed("DELETE", f"{s3}/soak/{k}/{(n + 10) % 20}"),
            lambda: bde("ListExports", {}),
            lambda: bde("GetExport", {"ExportArn": seed_arn}),
            lambda: bde("ListExecutions", {"ExportArn": seed_arn}),
            lambda: bde(
                "TagResource",
                {"ResourceArn": seed_arn, "ResourceTags": [{"Key": f"k{k}", "Value": str(n)}]},
            ),
            lambda: bde("ListTagsForResource", {"ResourceArn": seed_arn}),
            lambda: bde("UntagResource", {"ResourceArn": seed_arn, "ResourceTagKeys": [f"k{k}"]}),
            lambda: bde("ListTables", {}),
            lambda: bde("GetTable", {"TableName": "COST_AND_USAGE_REPORT"}),
            lambda: cur("DescribeReportDefinitions", {}),
            lambda: loadgen.signed("GET", f"{s3}?list-type=2&prefix=seed/&max-keys=5"),
        ]
        return mix[n % len(mix)]()

    def make(n: int) -> bytes:
        cycle, step = divmod(n, 500)
        if k == 0 and step < 5:  # an export's life: create, read, update, its runs, delete
            name = f"soak-{cycle}"
            arn = seed_arn.rsplit("/", 1)[0] + f"/{name}"
            return [
                lambda: bde("CreateExport", {"Export": export(name)}),
                lambda: bde("GetExport", {"ExportArn": arn}),
                lambda: bde("UpdateExport", {"ExportArn": arn, "Export": export(name, "v2")}),
                lambda: bde("ListExecutions", {"ExportArn": arn}),
                lambda: bde("DeleteExport", {"ExportArn": arn}),
            ][step]()
        if k == 1 and step < 4:  # a legacy report's life
            name = f"soak-r{cycle}"
            return [
                lambda: cur("PutReportDefinition", {"ReportDefinition": report(name)}),
                lambda: cur(
                    "ModifyReportDefinition",
                    {"ReportName": name, "ReportDefinition": report(name, "cur2")},
                ),
                lambda: cur("DescribeReportDefinitions", {}),
                lambda: cur("DeleteReportDefinition", {"ReportName": name}),
            ][step]()
        return cheap(n)

    return make


def seed(endpoint: str) -> str:
    """The bucket, objects, export and report the traffic reads; the export's ARN."""
    import boto3

    kw = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    creds = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    s3 = boto3.client("s3", **kw, **creds)
    s3.create_bucket(Bucket=BUCKET)
    for i in range(10):
        s3.put_object(Bucket=BUCKET, Key=f"seed/{i}", Body=os.urandom(4096 * (i + 1)))
    bde = boto3.client("bcm-data-exports", **kw, **creds)
    arn: str = bde.create_export(Export=export("soak-seed"))["ExportArn"]
    boto3.client("cur", **kw, **creds).put_report_definition(ReportDefinition=report("soak-seed"))
    return arn


def soak(minutes: float, clients: int, sample_seconds: float, data_dir: Path) -> Report:
    from bcm_local.testing import ServerProcess

    result = Report(minutes, clients)
    with ServerProcess(data_dir=data_dir, env=ENV) as server:
        assert server.proc is not None
        pid = server.proc.pid
        seed_arn = seed(server.endpoint)
        makers = [client(k, server.endpoint, seed_arn) for k in range(clients)]
        counters = [[0] for _ in range(clients)]
        started = time.monotonic()
        deadline = started + minutes * 60

        def sample() -> None:
            time.sleep(0.3)  # let the connections of the slice close
            now = round(time.monotonic() - started, 1)
            s = Sample(now, round(rss_mib(pid), 1), open_fds(pid), result.requests, result.errors)
            result.samples.append(s)
            print(
                f"{s.seconds:7.1f}s  rss {s.rss_mib:7.1f} MiB  fds {s.fds:4d}  "
                f"requests {s.requests:9d}  errors {s.errors}",
                flush=True,
            )

        sample()
        while time.monotonic() < deadline:
            slice_seconds = max(0.5, min(sample_seconds, deadline - time.monotonic()))
            try:
                got = loadgen.run_clients(server.endpoint, makers, counters, slice_seconds)
            except (OSError, EOFError, ValueError) as err:  # a connection the server broke
                print(f"slice failed: {err!r}", flush=True)
                result.failed_slices += 1
                result.errors += 1
            else:
                result.requests += got.requests
                result.errors += got.errors
            sample()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--sample-seconds", type=float, default=15.0)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument(
        "--write", action="store_true", help="write benchmarks/results/soak-<date>.md"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bcm-soak-") as tmp:
        result = soak(args.minutes, args.clients, args.sample_seconds, args.data_dir or Path(tmp))
    print(result.summary())
    if args.write:
        out = ROOT / "benchmarks" / "results" / f"soak-{dt.date.today().isoformat()}.md"
        rows = "\n".join(
            f"| {s.seconds} | {s.rss_mib} | {s.fds} | {s.requests} | {s.errors} |"
            for s in result.samples
        )
        out.write_text(
            f"# Soak {dt.date.today().isoformat()}\n\n```\n{result.summary()}\n```\n\n"
            "| seconds | RSS MiB | open fds | requests | errors |\n|---|---|---|---|---|\n"
            f"{rows}\n\n<!-- {json.dumps([asdict(s) for s in result.samples])} -->\n"
        )
        print(f"written to {out}")
    return 1 if result.errors or result.fd_leak > FD_SLACK else 0


if __name__ == "__main__":
    raise SystemExit(main())
