"""The seed's layout: `<prefix>/<name>/<executionId>.parquet` (or `.csv.gz`), one file per
execution holding every billing period. With OVERWRITE_REPORT the previous runs' files in
that folder are removed after the new one lands; with CREATE_NEW_REPORT they stay."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bcm_local.delivery.writer import extension

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset
    from bcm_local.billing.scenario.periods import Period
    from bcm_local.delivery.pipeline import Run, Selection
    from bcm_local.delivery.sink import ObjectSink

CONTENT_TYPES = {"PARQUET": "binary/octet-stream", "TEXT_OR_CSV": "application/gzip"}


def base(prefix: str, name: str) -> str:
    """`<prefix>/<name>`: the export's folder (both Data Exports layouts)."""
    return "/".join(p for p in (prefix.strip("/"), name) if p)


def floci_key(prefix: str, name: str, execution_id: str, fmt: str) -> str:
    return f"{base(prefix, name)}/{execution_id}.{extension(fmt)}"


def is_floci_run_file(folder: str, key: str) -> bool:
    rest = key[len(folder) + 1 :] if key.startswith(folder + "/") else ""
    return bool(rest) and "/" not in rest and rest.endswith((".parquet", ".csv.gz"))


class ExportLayout:
    """What both Data Exports layouts share: one selection (the export's SQL over its
    table), chosen once the bill is open, and nothing to do before or after the
    partitions."""

    select: Callable[[Run], Selection]
    selected: Selection | None

    def before(self, sink: ObjectSink) -> list[str]:
        return []

    def begin(self, run: Run) -> None:
        self.selected = self.select(run)

    def selection(self, run: Run, period: Period | None) -> Selection:
        assert self.selected is not None, "begin() chooses the selection"
        return self.selected

    def end(self, run: Run) -> None:
        pass


@dataclass
class FlociLayout(ExportLayout):
    prefix: str
    name: str
    execution_id: str
    select: Callable[[Run], Selection]  # the selection, once the bill is open
    overwrite: bool
    chunk: int | None = None
    selected: Selection | None = None

    def partitions(self, data: Dataset) -> list[Period | None]:
        return [None]

    def put_data(self, run: Run, period: Period | None, files: list[Path]) -> list[str]:
        (path,) = files
        fmt = self.selection(run, period).fmt
        key = floci_key(self.prefix, self.name, self.execution_id, fmt)
        run.put_file(key, path, CONTENT_TYPES[fmt])
        return [key]

    def finish_partition(
        self, run: Run, period: Period | None, keys: list[str], selection: Selection
    ) -> None:
        if not self.overwrite:
            return
        folder = base(self.prefix, self.name)
        for old in run.sink.list_keys(folder + "/"):
            if old not in keys and is_floci_run_file(folder, old):
                run.sink.delete(old)
