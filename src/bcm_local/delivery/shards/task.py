"""Running one shard: build its lines of the bill, write its numbered parts into the
BILLING_PERIOD folder, remove the surplus parts of an earlier run of the same shard, and
say what was written. Nothing is shared with other shards; the manifest is `finish`'s.

Part names (layouts/aws.py's Partition): a shard that is a whole period writes what an
unsharded delivery writes, `<name>-00001.snappy.parquet`, ...; the g-th of n groups
writes `<name>-<g:05d>-00001.snappy.parquet`, ... (`.csv.gz` for CSV).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcm_local.delivery.shards.plan import Shard, ShardError, ShardResult, period_of

if TYPE_CHECKING:
    from bcm_local.billing.scenario.periods import Period
    from bcm_local.delivery.layouts.aws import Partition
    from bcm_local.delivery.sink import ObjectSink
    from bcm_local.settings import Config


def partition(shard: Shard, period: Period) -> Partition:
    """The keys of the shard's billing period in the `aws` layout."""
    from bcm_local.delivery.layouts.aws import Partition

    return Partition(shard.prefix, shard.name, period, shard.folder)


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
    period = period_of(shard, data.periods)
    data.focus(period)
    source = tables.table_sql(data, shard.table, shard.properties)
    sql = duckdb_sql(query, columns, source, data)
    outs = outputs(query, columns)
    rows: list[int] = []
    files = write(con, sql, outs, shard.fmt, scratch / "parts", chunk_bytes(config), rows=rows)
    part = partition(shard, period)
    keys = [part.chunk_key(n + 1, shard.fmt, shard.key.part_group) for n in range(len(files))]
    size = sum(f.stat().st_size for f in files)
    for chunk, path in zip(keys, files, strict=True):
        sink.put_file(chunk, path, CONTENT_TYPES[shard.fmt])
    _remove_surplus(sink, shard, part, len(keys))
    columns_out = [(o.name, o.type) for o in outs]
    return {"keys": keys, "rows": sum(rows), "bytes": size, "columns": columns_out}


def _peak_rss_mib() -> float:
    try:
        import resource
    except ImportError:  # not Unix
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _remove_surplus(sink: Any, shard: Shard, part: Partition, written: int) -> None:
    """Parts of an earlier, larger run of this very shard (a re-run replaces only its
    own files)."""
    for old in sink.list_keys(part.data_dir + "/"):
        number = part.chunk_number(old, shard.fmt, shard.key.part_group)
        if number is not None and number > written:
            sink.delete(old)
