"""Running one shard: build its lines of the bill, write its numbered parts into the
BILLING_PERIOD folder, remove the surplus parts of an earlier run of the same shard, and
say what was written. Nothing is shared with other shards; the manifest is `finish`'s.

Part names: a shard that is a whole period writes what an unsharded delivery writes,
`<name>-00001.snappy.parquet`, ...; the g-th of n groups writes
`<name>-<g:05d>-00001.snappy.parquet`, ... (`.csv.gz` for CSV).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcm_local.delivery.shards.plan import Shard, ShardError, ShardResult

if TYPE_CHECKING:
    from bcm_local.billing.scenario.periods import Period
    from bcm_local.delivery.layouts.aws import Partition
    from bcm_local.delivery.sink import ObjectSink
    from bcm_local.settings import Config

_SUFFIX = {"PARQUET": "snappy.parquet", "TEXT_OR_CSV": "csv.gz"}


def partition(shard: Shard, period: Period) -> Partition:
    """The keys of the shard's billing period in the `aws` layout."""
    from bcm_local.delivery.layouts.aws import Partition

    return Partition(shard.prefix, shard.name, period, shard.folder)


def data_dir(shard: Shard) -> str:
    """The BILLING_PERIOD folder of the shard's parts."""
    from bcm_local.delivery.layouts.floci import base

    parts = (base(shard.prefix, shard.name), "data", f"BILLING_PERIOD={shard.key.period}")
    return "/".join((*parts, shard.folder) if shard.folder else parts)


def part_key(shard: Shard, number: int) -> str:
    group = f"-{shard.key.group + 1:05d}" if shard.key.groups > 1 else ""
    return f"{data_dir(shard)}/{shard.name}{group}-{number:05d}.{_SUFFIX[shard.fmt]}"


def part_pattern(shard: Shard, groups: bool) -> re.Pattern[str]:
    """The shard's own parts (`groups` False), or every part of its period's folder."""
    own = f"-{shard.key.group + 1:05d}" if shard.key.groups > 1 else ""
    group = r"(-\d{5})?" if groups else re.escape(own)
    name = re.escape(f"{data_dir(shard)}/{shard.name}")
    return re.compile(name + group + r"-(\d{5})\." + re.escape(_SUFFIX[shard.fmt]))


def open_sink(shard: Shard, config: Config, scratch: Path) -> ObjectSink:
    """Where the shard's files go: its folder, or its S3 bucket (BCM_LOCAL_DELIVERY_S3_*)."""
    from bcm_local.delivery.sink import ExternalSink, FolderSink

    if shard.target.startswith("s3://"):
        return ExternalSink(config, scratch, shard.target.removeprefix("s3://"), None)
    return FolderSink(Path(shard.target), scratch)


def run_shard(shard: Shard) -> ShardResult:
    """Write the shard's parts; raises ShardError when the shard cannot be made."""
    from bcm_local.billing import bill
    from bcm_local.billing.model.shard import ShardKeyError
    from bcm_local.settings import Config

    started = time.perf_counter()
    config = Config(shard.values)
    local = not shard.target.startswith("s3://")
    if local:  # beside the files, so they are moved in, not copied
        Path(shard.target).mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".bcm-shard-", dir=shard.target if local else None))
    con = bill.connect(scratch, threads=shard.threads)
    try:
        sink = open_sink(shard, config, scratch)
        if shard.report is not None:
            from bcm_local.delivery.shards import legacy

            written = legacy.write(shard, config, con, scratch, sink)
        else:
            written = _write(shard, config, con, scratch, sink)
    except ShardKeyError as err:
        raise ShardError(f"shard {shard.key}: {err}") from None
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - started
    return ShardResult(
        key=shard.key,
        delivery=shard.delivery,
        seconds=seconds,
        peak_rss_mib=_peak_rss_mib(),
        **written,
    )


def _write(
    shard: Shard, config: Config, con: Any, scratch: Path, sink: ObjectSink
) -> dict[str, Any]:
    """A Data Exports shard (the `aws` layout): its lines built alone, its parts named."""
    from bcm_local.billing import bill, tables
    from bcm_local.billing.model.shard import LineShard
    from bcm_local.delivery.layouts.floci import CONTENT_TYPES
    from bcm_local.delivery.sql import checked_query, duckdb_sql, outputs
    from bcm_local.delivery.writer import chunk_bytes, write

    query, columns = checked_query(
        shard.statement, {shard.table: shard.properties}, bool(config.strict_sql)
    )
    key = shard.key
    data = bill.open_dataset(
        con,
        config,
        shard.account_id,
        shard.moment,
        bill.granularity_of(shard.table, shard.properties),
        backfill_months=shard.backfill_months,
        scenario=shard.scenario,
        shard=LineShard(shard.period_index, key.by, key.group, key.groups),
        inputs=shard.inputs,
    )
    if shard.view is not None:
        from bcm_local.billing.model.slice import lines_condition

        data.restrict(lines_condition(data, shard.view))
    data.focus(period_of(shard, data.periods))
    source = tables.table_sql(data, shard.table, shard.properties)
    sql = duckdb_sql(query, columns, source, data)
    outs = outputs(query, columns)
    rows: list[int] = []
    files = write(con, sql, outs, shard.fmt, scratch / "parts", chunk_bytes(config), rows=rows)
    keys = [part_key(shard, n + 1) for n in range(len(files))]
    size = sum(f.stat().st_size for f in files)
    for part, path in zip(keys, files, strict=True):
        sink.put_file(part, path, CONTENT_TYPES[shard.fmt])
    _remove_surplus(sink, shard, len(keys))
    columns_out = [(o.name, o.type) for o in outs]
    return {"keys": keys, "rows": sum(rows), "bytes": size, "columns": columns_out}


def period_of(shard: Shard, periods: list[Period]) -> Period:
    found = next((p for p in periods if p.index == shard.period_index), None)
    if found is None or found.label != shard.key.period:
        raise ShardError(f"shard {shard.key}: the bill has no billing period {shard.key.period}")
    return found


def _peak_rss_mib() -> float:
    try:
        import resource
    except ImportError:  # not Unix
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _remove_surplus(sink: Any, shard: Shard, written: int) -> None:
    """Parts of an earlier, larger run of this very shard (a re-run replaces only its
    own files)."""
    mine = part_pattern(shard, groups=False)
    for old in sink.list_keys(data_dir(shard) + "/"):
        found = mine.fullmatch(old)
        if found and int(found.group(1)) > written:
            sink.delete(old)
