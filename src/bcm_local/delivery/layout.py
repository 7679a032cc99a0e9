"""Where export files go in the bucket.

`floci` (the seed's): `<prefix>/<name>/<executionId>.parquet` (or `.csv.gz`); with
OVERWRITE_REPORT the previous runs' files in that folder are removed after the new one
lands, with CREATE_NEW_REPORT they stay.

`aws`: per billing period `<prefix>/<name>/data/BILLING_PERIOD=YYYY-MM/<name>-00001.snappy.parquet`
(`.csv.gz`), then `<prefix>/<name>/metadata/BILLING_PERIOD=YYYY-MM/<name>-Manifest.json`.
CREATE_NEW_REPORT puts both under a `<YYYYMMDDTHHMMSSZ>-<executionId>/` folder and copies
the manifest to the partition root; OVERWRITE_REPORT overwrites the partition and empties
surplus chunks of a previous, larger run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bcm_local.billing.scenario.periods import Period
from bcm_local.delivery.sql import Output
from bcm_local.delivery.writer import CSV, extension


def base(prefix: str, name: str) -> str:
    return "/".join(p for p in (prefix.strip("/"), name) if p)


def floci_key(prefix: str, name: str, execution_id: str, fmt: str) -> str:
    return f"{base(prefix, name)}/{execution_id}.{extension(fmt)}"


def is_floci_run_file(folder: str, key: str) -> bool:
    rest = key[len(folder) + 1 :] if key.startswith(folder + "/") else ""
    return bool(rest) and "/" not in rest and rest.endswith((".parquet", ".csv.gz"))


@dataclass(frozen=True)
class Partition:
    """The keys of one billing period's files in the `aws` layout."""

    prefix: str
    name: str
    period: Period
    folder: str  # "" (OVERWRITE_REPORT) or "<timestamp>-<executionId>"

    @property
    def label(self) -> str:
        return f"BILLING_PERIOD={self.period.label}"

    @property
    def data_dir(self) -> str:
        return "/".join(
            p for p in (base(self.prefix, self.name), "data", self.label, self.folder) if p
        )

    @property
    def manifest_key(self) -> str:
        parts = (base(self.prefix, self.name), "metadata", self.label, self.folder)
        return "/".join(p for p in parts if p) + f"/{self.name}-Manifest.json"

    @property
    def latest_manifest_key(self) -> str:
        return f"{base(self.prefix, self.name)}/metadata/{self.label}/{self.name}-Manifest.json"

    def chunk_key(self, number: int, fmt: str) -> str:
        suffix = "csv.gz" if fmt == CSV else "snappy.parquet"
        return f"{self.data_dir}/{self.name}-{number:05d}.{suffix}"

    def chunk_number(self, key: str, fmt: str) -> int | None:
        suffix = "csv.gz" if fmt == CSV else "snappy.parquet"
        pattern = re.escape(f"{self.data_dir}/{self.name}-") + r"(\d{5})" + re.escape(f".{suffix}")
        match = re.fullmatch(pattern, key)
        return int(match.group(1)) if match else None


def run_folder(now: datetime, execution_id: str) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{execution_id}"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S.000Z")


def manifest(
    export: dict[str, Any],
    execution_id: str,
    bucket: str,
    part: Partition,
    keys: list[str],
    outputs: list[Output],
    fmt: str,
) -> bytes:
    body = {
        "executionId": execution_id,
        "exportArn": export.get("ExportArn"),
        "exportName": export.get("Name"),
        "billingPeriod": {"start": _stamp(part.period.start), "end": _stamp(part.period.end)},
        "bucket": bucket,
        "dataFiles": [f"s3://{bucket}/{key}" for key in keys],
        "columns": [{"name": o.name, "type": o.type} for o in outputs],
        "contentType": "text/csv" if fmt == CSV else "Parquet",
        "compression": "GZIP" if fmt == CSV else "Parquet",
    }
    return json.dumps(body, indent=2).encode()
