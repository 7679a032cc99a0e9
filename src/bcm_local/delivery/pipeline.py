"""One delivery, whatever its layout.

The account's bill is opened once, at the delivery's moment; for each partition the
layout asks for (a billing period, or the whole bill) the layout's selection is written
by the one writer (writer.py: COPY, or the run writer for large Parquet) to scratch files,
which the layout then hands whole to the object sink under its keys. The layout's own
files (manifests, artifacts) come after the data they describe, so a reader that finds a
manifest finds every file it lists, and a crash never leaves a half-written object.

Layouts (delivery/layouts/): `floci` (the seed's: one file per execution), `aws` (Data
Exports' BILLING_PERIOD partitions, chunks and manifests, also what `bcm-local emit`
writes) and `legacy` (legacy CUR's folders, renamed columns and artifacts). Data Exports
(exports.py), legacy CUR (reports.py) and `bcm-local emit` (emit.py) only choose a layout,
a selection and a sink.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bcm_local.billing import bill
from bcm_local.delivery.sql import Output
from bcm_local.delivery.writer import extension, write

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset
    from bcm_local.billing.scenario.periods import Period
    from bcm_local.delivery.progress import Progress
    from bcm_local.delivery.sink import ObjectSink
    from bcm_local.runtime import Runtime


@dataclass(frozen=True)
class Selection:
    """What a partition's files hold: a query over the bill and its output columns."""

    sql: str
    outputs: list[Output]
    fmt: str  # PARQUET or TEXT_OR_CSV (writer.py)
    gzip: bool = True  # CSV only: legacy CUR's ZIP writes plain CSV and zips it


@dataclass(frozen=True)
class BillRequest:
    """Which bill: whose, as of when, at which time granularity, with how many closed
    months (None: BCM_LOCAL_BILLING_BACKFILL_MONTHS)."""

    account_id: str
    moment: datetime
    granularity: str
    backfill_months: int | None = None
    view: dict[str, Any] | None = None  # a billing view's slice (None: the whole bill)


@dataclass
class Run:
    """A delivery under way: what the layout works with."""

    config: Any
    sink: ObjectSink
    scratch: Path
    con: Any
    data: Dataset
    progress: Progress | None = None
    written: list[str] = field(default_factory=list)

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        self.sink.put_file(key, path, content_type)
        self.written.append(key)

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        self.sink.put_bytes(key, body, content_type)
        self.written.append(key)


class Layout(Protocol):
    """Where a delivery's files go and what goes with them."""

    chunk: int | None  # split data files above this many bytes (None: one file)

    def before(self, sink: ObjectSink) -> list[str]:
        """Before the bill is built (legacy CUR's bucket check object); keys written."""
        ...

    def begin(self, run: Run) -> None: ...

    def partitions(self, data: Dataset) -> list[Period | None]:
        """The billing periods to write, each on its own (None: the whole bill at once)."""
        ...

    def selection(self, run: Run, period: Period | None) -> Selection: ...

    def put_data(self, run: Run, period: Period | None, files: list[Path]) -> list[str]:
        """Hand the partition's data files to the sink; their keys."""
        ...

    def finish_partition(
        self, run: Run, period: Period | None, keys: list[str], selection: Selection
    ) -> None:
        """The partition's manifests and artifacts, and what replaces an earlier run's."""
        ...

    def end(self, run: Run) -> None: ...


def deliver(
    runtime: Runtime | None,
    config: Any,
    sink: ObjectSink,
    request: BillRequest,
    layout: Layout,
    scratch: Path,
    progress: Progress | None = None,
) -> list[str]:
    """Write the layout's partitions of the requested bill through `sink`; the keys
    written, in order. `scratch` is a private directory the caller removes."""
    written = layout.before(sink)
    con = bill.connect(scratch)
    try:
        data = bill.open_dataset(
            con,
            config,
            request.account_id,
            request.moment,
            request.granularity,
            runtime=runtime,
            backfill_months=request.backfill_months,
        )
        if request.view is not None:
            from bcm_local.billing.model.slice import lines_condition

            data.restrict(lines_condition(data, request.view))
        run = Run(config, sink, scratch, con, data, progress, written)
        layout.begin(run)
        partitions = layout.partitions(data)
        if progress:
            progress.attach(len(partitions), con)
        for period in partitions:
            _partition(run, layout, period)
        layout.end(run)
        return run.written
    finally:
        con.close()


def _partition(run: Run, layout: Layout, period: Period | None) -> None:
    run.data.focus(period)
    label = period.label if period is not None else "all"
    hook: Callable[[float], None] | None = None
    if run.progress:
        run.progress.start(label)
        hook = run.progress.written
    selection = layout.selection(run, period)
    rows: list[int] = []
    if layout.chunk is None:  # one file
        target = run.scratch / f"run.{extension(selection.fmt)}"
    else:  # a directory of numbered chunks
        target = run.scratch / (f"p{period.index}" if period is not None else "all")
    files = write(
        run.con,
        selection.sql,
        selection.outputs,
        selection.fmt,
        target,
        layout.chunk,
        gzip=selection.gzip,
        rows=rows,
        progress=hook,
    )
    keys = layout.put_data(run, period, files)
    layout.finish_partition(run, period, keys, selection)
    if run.progress:
        run.progress.finished(label, len(files), sum(rows))
