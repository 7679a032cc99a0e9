"""Legacy CUR as shards: a shard writes its group of one billing period's rows in the
report's own format and folder (`<report>-<group>-1.csv.gz`, ...,
`<report>-<group:05d>-00001.snappy.parquet`, ...), with the period's columns.

Legacy CUR's columns follow the map keys the period's rows have (each tag key a
`resourceTags/...` column), so a shard builds the whole bill, chooses the columns from the
whole period (through the report's billing view), and only then keeps its own lines:
every shard of a period writes the same columns. The manifest, the artifacts and the
Athena status are the delivery's finish (delivery/reports.py), from all the shards'
results and the assembly id the plan chose for the period.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcm_local.delivery.shards.plan import Shard, period_of, periods_of

if TYPE_CHECKING:
    from bcm_local.delivery.sink import ObjectSink
    from bcm_local.settings import Config


def write(
    shard: Shard, config: Config, con: Any, scratch: Path, sink: ObjectSink
) -> dict[str, Any]:
    from bcm_local.billing import bill
    from bcm_local.billing.model.shard import LineShard
    from bcm_local.billing.model.slice import lines_condition
    from bcm_local.delivery.layouts.legacy.layout import LegacyLayout
    from bcm_local.delivery.pipeline import Run
    from bcm_local.delivery.writer import chunk_bytes
    from bcm_local.delivery.writer import write as write_rows

    assert shard.report is not None
    key = shard.key
    period = period_of(shard, periods_of(shard))
    layout = LegacyLayout(
        shard.report,
        shard.account_id,
        shard.report_id,
        [period.start],
        shard.moment,
        chunk_bytes(config),
        assemblies={period.index: shard.assembly},
        group=key.part_group,
    )
    data = bill.open_dataset(
        con,
        config,
        shard.account_id,
        shard.moment,
        layout.properties["TIME_GRANULARITY"],
        backfill_months=shard.backfill_months,
        scenario=shard.scenario,
        inputs=shard.inputs,
    )
    view = lines_condition(data, shard.view) if shard.view is not None else ""
    if view:
        data.restrict(view)
    run = Run(config, sink, scratch, con, data)
    layout.prepare(run)
    data.focus(period)
    selection = layout.selection(run, period)  # the whole period's columns
    if key.groups > 1:
        mine = LineShard(period.index, key.by, key.group, key.groups).on_lines(con)
        data.restrict(f"({view}) AND ({mine})" if view else mine)
        data.focus(period)
    rows: list[int] = []
    files = write_rows(
        con,
        selection.sql,
        selection.outputs,
        selection.fmt,
        scratch / "parts",
        layout.chunk,
        gzip=selection.gzip,
        rows=rows,
    )
    size = sum(f.stat().st_size for f in files)
    keys = layout.put_data(run, period, files)
    return {
        "keys": keys,
        "rows": sum(rows),
        "bytes": size,
        "columns": [(o.name, o.type) for o in selection.outputs],
        "legacy_columns": layout.columns_of(period),
    }
