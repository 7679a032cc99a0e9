"""Legacy CUR's layout: per billing period the renamed CUR 2.0 rows as `<report>-1.csv.gz`,
`-2`, ... (`.csv.zip`: each CSV chunk zipped) or `<report>-00001.snappy.parquet`, ...
(paths.py), then the stale files of an earlier delivery removed, the Redshift, QuickSight
and Athena artifacts (artifacts.py), and the manifest last.

Legacy CUR is CUR 2.0 renamed (columns.py), so it reads exactly the rows a CUR 2.0 export
with the equivalent table properties gets: TimeUnit -> TIME_GRANULARITY, RESOURCES /
SPLIT_COST_ALLOCATION_DATA / MANUAL_DISCOUNT_COMPATIBILITY -> the INCLUDE_* flags,
BillingViewArn -> BILLING_VIEW_ARN; the bill is built once for every period delivered,
as a CUR 2.0 export delivered at the same moment builds it, so every month agrees with
that export, invoice ids of closed months included.
"""

from __future__ import annotations

import shutil
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcm_local.billing import tables
from bcm_local.billing.tables.types import STRING, TIMESTAMP, TIMESTAMP_MS
from bcm_local.delivery.layouts.legacy import artifacts
from bcm_local.delivery.layouts.legacy.columns import LegacyColumn, legacy_columns
from bcm_local.delivery.layouts.legacy.paths import TEST_OBJECT, Paths
from bcm_local.delivery.pipeline import Selection
from bcm_local.delivery.sql import Output
from bcm_local.delivery.writer import CSV, PARQUET

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset
    from bcm_local.billing.scenario.periods import Period
    from bcm_local.delivery.pipeline import Run
    from bcm_local.delivery.sink import ObjectSink

TEST_OBJECT_BODY = b"Created by AWS to verify bucket access for Cost and Usage Reports.\n"
_MAP_COLUMNS = ("product", "discount", "resource_tags", "cost_category")
_FLAGS = {
    "RESOURCES": "INCLUDE_RESOURCES",
    "SPLIT_COST_ALLOCATION_DATA": "INCLUDE_SPLIT_COST_ALLOCATION_DATA",
    "MANUAL_DISCOUNT_COMPATIBILITY": "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY",
}
_SOURCE = "cur2_rows"  # the view of the focused period's CUR 2.0 rows


def cur2_properties(definition: dict[str, Any]) -> dict[str, str]:
    """The CUR 2.0 table properties equivalent to a legacy report definition."""
    elements = set(definition.get("AdditionalSchemaElements") or [])
    props = {"TIME_GRANULARITY": definition["TimeUnit"]}
    props.update({flag: "TRUE" if e in elements else "FALSE" for e, flag in _FLAGS.items()})
    view = definition.get("BillingViewArn") or ""
    if view.startswith("arn:"):
        props["BILLING_VIEW_ARN"] = view
    return tables.resolve_properties(tables.CUR2, props)


@dataclass
class LegacyLayout:
    """One report's delivery of the billing periods starting at `starts`, at `moment`."""

    definition: dict[str, Any]
    account_id: str
    report_id: str
    starts: list[datetime]
    moment: datetime
    chunk: int | None
    # a sharded delivery's (delivery/shards/legacy.py): each period's assembly id, and the
    # shard's group (1-based) that numbers its data files
    assemblies: dict[int, str] = field(default_factory=dict)
    group: int | None = None
    _paths: dict[int, Paths] = field(default_factory=dict)
    _columns: dict[int, list[LegacyColumn]] = field(default_factory=dict)

    @property
    def properties(self) -> dict[str, str]:
        return cur2_properties(self.definition)

    def before(self, sink: ObjectSink) -> list[str]:
        # first, as AWS does when it checks the bucket; the model's S3 usage then sees it too
        sink.put_bytes(TEST_OBJECT, TEST_OBJECT_BODY, "text/plain")
        return [TEST_OBJECT]

    def begin(self, run: Run) -> None:
        self.prepare(run)
        if self._athena:
            self.status(run, "UPDATING")

    def prepare(self, run: Run) -> None:
        """The CUR 2.0 rows the periods' selections read, and the periods' keys."""
        sql = tables.table_sql(run.data, tables.CUR2, self.properties)
        run.con.execute(f"CREATE OR REPLACE VIEW {_SOURCE} AS {sql}")
        self.plan(run.data.periods)

    def columns_of(self, period: Period) -> list[LegacyColumn]:
        """The period's columns, once its selection is made."""
        return self._columns[period.index]

    def know_columns(self, period: Period, columns: list[LegacyColumn]) -> None:
        """The period's columns as the shards that wrote it chose them (finishing a
        sharded delivery)."""
        self._columns[period.index] = columns

    def plan(self, periods: list[Period]) -> dict[int, Paths]:
        """The keys of each delivered period (its assembly id chosen once)."""
        by_start = {p.start: p for p in periods}
        for start in self.starts:
            if start in by_start:
                period = by_start[start]
                assembly = self.assemblies.get(period.index) or str(uuid.uuid4())
                self._paths[period.index] = Paths(self.definition, start, period.end, assembly)
        return self._paths

    @property
    def _athena(self) -> Paths | None:
        first = next(iter(self._paths.values()), None)
        return first if first is not None and first.athena else None

    def partitions(self, data: Dataset) -> list[Period | None]:
        by_start = {p.start: p for p in data.periods}
        return [by_start[s] for s in self.starts if s in by_start]

    def selection(self, run: Run, period: Period | None) -> Selection:
        assert period is not None
        paths = self._paths[period.index]
        present = [(c.name, c.type) for c in tables.columns(tables.CUR2, self.properties)]
        keys = {m: _map_keys(run.con, m) for m, _ in present if m in _MAP_COLUMNS}
        columns = self._columns[period.index] = legacy_columns(present, keys)
        if paths.parquet:
            select = [f'{c.source} AS "{c.parquet_name}"' for c in columns]
            outs = [Output(c.parquet_name, c.aws_type) for c in columns]
        else:
            select = []
            for c in columns:
                value = c.source
                if c.aws_type in (TIMESTAMP, TIMESTAMP_MS):
                    value = f"strftime({value}, '%Y-%m-%dT%H:%M:%SZ')"
                select.append(f'{value} AS "{c.header.replace(chr(34), chr(34) * 2)}"')
            outs = [Output(c.header, STRING) for c in columns]
        query = f"SELECT {', '.join(select)} FROM {_SOURCE}{_sort_order(columns)}"
        gzip = paths.definition["Compression"] == "GZIP"
        return Selection(query, outs, PARQUET if paths.parquet else CSV, gzip)

    def put_data(self, run: Run, period: Period | None, files: list[Path]) -> list[str]:
        assert period is not None
        paths = self._paths[period.index]
        keys = []
        for number, local in enumerate(files, 1):
            key = paths.data_key(number, self.group)
            if key.endswith(".zip"):
                name = key.rpartition("/")[2]
                local = _zipped(local, run.scratch / f"zip-{number}", name, self.moment)
            run.put_file(key, local, paths.content_type)
            keys.append(key)
        return keys

    def finish_partition(
        self, run: Run, period: Period | None, keys: list[str], selection: Selection
    ) -> None:
        assert period is not None
        paths, columns = self._paths[period.index], self._columns[period.index]
        if paths.overwrite:
            # data files of an earlier delivery that this one did not replace (a changed
            # compression) would otherwise be read as part of the report
            for key in run.sink.list_keys(paths.data_folder + "/"):
                if paths.is_data_key(key) and key not in keys:
                    run.sink.delete(key)
        listed = _artifacts(run, paths, columns, keys)
        if paths.athena:
            athena = paths.athena_keys()
            run.put_bytes(
                athena["crawler"], artifacts.crawler_template(paths), "application/x-yaml"
            )
            sql = artifacts.create_table_sql(paths, columns)
            run.put_bytes(athena["create_table"], sql, "text/plain")
        body = artifacts.manifest(paths, self.account_id, self.report_id, columns, keys, listed)
        for key in paths.manifest_keys():
            run.put_bytes(key, body, "application/json")

    def end(self, run: Run) -> None:
        if self._athena:
            self.status(run, "READY")

    def status(self, run: Run, status: str) -> None:
        """ATHENA's cost_and_usage_data_status object (UPDATING, then READY)."""
        paths = self._athena
        assert paths is not None
        target = run.scratch / f"status-{uuid.uuid4().hex}.parquet"
        run.con.execute(
            f"COPY (SELECT '{status}' AS status) TO '{_sql_path(target)}' "
            "(FORMAT parquet, COMPRESSION snappy)"
        )
        run.put_file(paths.athena_keys()["status"], target, "binary/octet-stream")


def _artifacts(
    run: Run, paths: Paths, columns: list[LegacyColumn], data_keys: list[str]
) -> list[dict[str, str]]:
    chosen = paths.definition["AdditionalArtifacts"]
    listed: list[dict[str, str]] = []
    if "REDSHIFT" in chosen:
        manifest_key, commands_key = paths.redshift_keys()
        run.put_bytes(
            manifest_key, artifacts.redshift_manifest(paths, data_keys), "application/json"
        )
        sql = artifacts.redshift_commands(paths, columns, manifest_key)
        run.put_bytes(commands_key, sql, "text/plain")
        listed += [
            {"artifactType": "RedshiftCommands", "name": commands_key},
            {"artifactType": "RedshiftManifest", "name": manifest_key},
        ]
    if "QUICKSIGHT" in chosen:
        key = paths.quicksight_key()
        run.put_bytes(key, artifacts.quicksight_manifest(paths, data_keys), "application/json")
        listed.append({"artifactType": "QuickSightManifest", "name": key})
    return listed


def _map_keys(con: Any, column: str) -> list[str]:
    rows = con.execute(
        f'SELECT DISTINCT unnest(map_keys("{column}")) FROM {_SOURCE} WHERE "{column}" IS NOT NULL'
    ).fetchall()
    return sorted(str(r[0]) for r in rows if r[0] is not None)


def _sort_order(columns: list[LegacyColumn]) -> str:
    wanted = ("lineItem/UsageStartDate", "identity/LineItemId")
    by_header = {c.header: c.source for c in columns}
    found = [by_header[h] for h in wanted if h in by_header]
    return f" ORDER BY {', '.join(found)}" if found else ""


def _zipped(src: Path, folder: Path, name: str, now: datetime) -> Path:
    """`<report>-N.csv.zip` holding `<report>-N.csv`, dated at the delivery's hour (not the
    scratch file's time: the same clock gives the same bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / name
    entry = zipfile.ZipInfo(name.removesuffix(".zip"), (*now.timetuple()[:4], 0, 0))
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.file_size = src.stat().st_size  # lets zipfile choose ZIP64 for a large chunk
    with (
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf,
        open(src, "rb") as data,
        zf.open(entry, "w") as out,
    ):
        shutil.copyfileobj(data, out, 1 << 20)
    src.unlink()
    return archive


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
