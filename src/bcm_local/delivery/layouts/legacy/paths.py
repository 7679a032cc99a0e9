"""Where a legacy CUR delivery puts its files (AWS's layout, see the facts file).

- textORcsv, CREATE_NEW_REPORT: `<prefix>/<report>/<YYYYMM01-YYYYMM01>/<assemblyId>/` holds
  `<report>-1.csv.gz` (`.csv.zip`), the Redshift files and a manifest; the latest manifest
  is also at the period folder's root.
- textORcsv, OVERWRITE_REPORT: the same files straight in the period folder.
- Parquet: `<prefix>/<report>/<report>/year=YYYY/month=M/<report>-00001.snappy.parquet` and
  its manifest (an `<assemblyId>/` folder below month=M for CREATE_NEW_REPORT); ATHENA adds
  `cost_and_usage_data_status/`, `crawler-cfn.yml` and `<period>/<report>-create-table.sql`.
- QUICKSIGHT: `<prefix>/<report>/QuickSight/<report>-<YYYYMM01>-<YYYYMM01>-QuickSightManifest.json`.
The prefix is joined with a `/` even when empty, as AWS does (keys then start with `/`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

TEST_OBJECT = "aws-programmatic-access-test-object"


@dataclass(frozen=True)
class Paths:
    definition: dict[str, Any]
    start: datetime
    end: datetime
    assembly_id: str

    @property
    def report(self) -> str:
        return str(self.definition["ReportName"])

    @property
    def bucket(self) -> str:
        return str(self.definition["S3Bucket"])

    @property
    def parquet(self) -> bool:
        return bool(self.definition["Format"] == "Parquet")

    @property
    def content_type(self) -> str:
        """The data files' Content-Type."""
        return "binary/octet-stream" if self.parquet else "text/csv"

    @property
    def overwrite(self) -> bool:
        return bool(self.definition["ReportVersioning"] == "OVERWRITE_REPORT")

    @property
    def athena(self) -> bool:
        return "ATHENA" in self.definition["AdditionalArtifacts"]

    @property
    def base(self) -> str:
        return f"{self.definition['S3Prefix']}/{self.report}"

    @property
    def period(self) -> str:
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"

    @property
    def period_folder(self) -> str:
        return f"{self.base}/{self.period}"

    @property
    def latest_folder(self) -> str:
        """Where the period's latest files (OVERWRITE) or latest manifest (CREATE_NEW) go."""
        if self.parquet:
            return f"{self.base}/{self.report}/year={self.start.year}/month={self.start.month}"
        return self.period_folder

    @property
    def data_folder(self) -> str:
        return self.latest_folder if self.overwrite else f"{self.latest_folder}/{self.assembly_id}"

    def data_key(self, number: int, group: int | None = None) -> str:
        """The `number`-th data file (1-based); of the `group`-th shard (1-based) of a
        sharded delivery (delivery/shards/): `<report>-<group>-<number>`."""
        if self.parquet:
            shard = f"{group:05d}-" if group is not None else ""
            return f"{self.data_folder}/{self.report}-{shard}{number:05d}.snappy.parquet"
        suffix = "zip" if self.definition["Compression"] == "ZIP" else "gz"
        shard = f"{group}-" if group is not None else ""
        return f"{self.data_folder}/{self.report}-{shard}{number}.csv.{suffix}"

    def is_data_key(self, key: str) -> bool:
        """A data file of this report in its data folder (any number, any compression,
        a shard's or not)."""
        name = key.rpartition("/")[2]
        stem = f"{self.report}-"
        if not name.startswith(stem) or key.rpartition("/")[0] != self.data_folder:
            return False
        rest = name[len(stem) :]
        number, _, ext = rest.partition(".")
        return number.replace("-", "", 1).isdigit() and ext in (
            "csv.gz",
            "csv.zip",
            "snappy.parquet",
        )

    def manifest_keys(self) -> list[str]:
        name = f"{self.report}-Manifest.json"
        keys = [f"{self.data_folder}/{name}"]
        if not self.overwrite:
            keys.append(f"{self.latest_folder}/{name}")
        return keys

    def redshift_keys(self) -> tuple[str, str]:
        return (
            f"{self.data_folder}/{self.report}-RedshiftManifest.json",
            f"{self.data_folder}/{self.report}-RedshiftCommands.sql",
        )

    def quicksight_key(self) -> str:
        return f"{self.base}/QuickSight/{self.report}-{self.period}-QuickSightManifest.json"

    def athena_keys(self) -> dict[str, str]:
        return {
            "status": f"{self.base}/cost_and_usage_data_status/cost_and_usage_data_status.parquet",
            "crawler": f"{self.base}/crawler-cfn.yml",
            "create_table": f"{self.period_folder}/{self.report}-create-table.sql",
        }

    def athena_location(self) -> str:
        return f"s3://{self.bucket}/{self.base}/{self.report}"

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"
