"""AWS's Data Exports layout: per billing period
`<prefix>/<name>/data/BILLING_PERIOD=YYYY-MM/<name>-00001.snappy.parquet` (`.csv.gz`),
then `<prefix>/<name>/metadata/BILLING_PERIOD=YYYY-MM/<name>-Manifest.json`.
CREATE_NEW_REPORT puts both under a `<YYYYMMDDTHHMMSSZ>-<executionId>/` folder and copies
the manifest to the partition root; OVERWRITE_REPORT overwrites the partition and empties
surplus chunks of a previous, larger run. `bcm-local emit` writes this layout into a folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcm_local.billing.scenario.periods import Period
from bcm_local.delivery.layouts.floci import CONTENT_TYPES, ExportLayout, base
from bcm_local.delivery.sql import Output
from bcm_local.delivery.writer import CSV, extension, write_empty

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset
    from bcm_local.delivery.pipeline import Run, Selection


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

    def chunk_key(self, number: int, fmt: str, group: int | None = None) -> str:
        """The `number`-th data file (1-based); of the `group`-th shard (1-based) of a
        sharded delivery (delivery/shards/): `<name>-<group:05d>-<number:05d>`."""
        shard = f"-{group:05d}" if group is not None else ""
        return f"{self.data_dir}/{self.name}{shard}-{number:05d}.{_suffix(fmt)}"

    def chunk_number(self, key: str, fmt: str, group: int | None = None) -> int | None:
        """The number of `key` if it is a data file of this partition (of `group`)."""
        shard = re.escape(f"-{group:05d}") if group is not None else ""
        match = re.fullmatch(self._chunk(shard, fmt), key)
        return int(match.group(1)) if match else None

    def is_chunk(self, key: str, fmt: str) -> bool:
        """A data file of this partition, a shard's or not."""
        return re.fullmatch(self._chunk(r"(?:-\d{5})?", fmt), key) is not None

    def _chunk(self, shard: str, fmt: str) -> str:
        name = re.escape(f"{self.data_dir}/{self.name}")
        return name + shard + r"-(\d{5})" + re.escape(f".{_suffix(fmt)}")


def _suffix(fmt: str) -> str:
    return "csv.gz" if fmt == CSV else "snappy.parquet"


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


@dataclass
class AwsLayout(ExportLayout):
    """`export` is the export's definition (ExportArn and Name go into the manifest);
    `bucket` is what the manifest's URIs name. CREATE_NEW_REPORT (`overwrite` False) puts
    each run under its `<moment>-<executionId>/` folder."""

    prefix: str
    export: dict[str, Any]
    execution_id: str
    moment: datetime
    bucket: str
    select: Callable[[Run], Selection]  # the selection, once the bill is open
    overwrite: bool
    chunk: int | None
    selected: Selection | None = None

    def partitions(self, data: Dataset) -> list[Period | None]:
        return list(data.periods)

    def _part(self, period: Period | None) -> Partition:
        assert period is not None
        folder = "" if self.overwrite else run_folder(self.moment, self.execution_id)
        return Partition(self.prefix, self.export["Name"], period, folder)

    def put_data(self, run: Run, period: Period | None, files: list[Path]) -> list[str]:
        part, fmt = self._part(period), self.selection(run, period).fmt
        keys = [part.chunk_key(n + 1, fmt) for n in range(len(files))]
        for key, path in zip(keys, files, strict=True):
            run.put_file(key, path, CONTENT_TYPES[fmt])
        return keys

    def finish_partition(
        self, run: Run, period: Period | None, keys: list[str], selection: Selection
    ) -> None:
        part, fmt = self._part(period), selection.fmt
        if self.overwrite:
            for old in run.sink.list_keys(part.data_dir + "/"):
                number = part.chunk_number(old, fmt)
                if number is not None and number > len(keys):
                    empty = run.scratch / f"empty-{number}.{extension(fmt)}"
                    write_empty(run.con, selection.sql, selection.outputs, fmt, empty)
                    run.put_file(old, empty, CONTENT_TYPES[fmt])
        body = manifest(
            self.export, self.execution_id, self.bucket, part, keys, selection.outputs, fmt
        )
        manifests = [part.manifest_key] + ([part.latest_manifest_key] if part.folder else [])
        for key in manifests:
            run.put_bytes(key, body, "application/json")
