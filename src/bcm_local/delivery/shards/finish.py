"""Finishing a sharded delivery: once every shard of the plan has its result, each
billing period's manifest is written, listing the parts of its shards in group order,
after the parts of an earlier delivery that this one does not list are removed. A plan
with any shard missing (failed, not run, or of another delivery) gets no manifest at all.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcm_local.delivery.shards.plan import Shard, ShardError, ShardResult, periods_of
from bcm_local.delivery.shards.task import open_sink, partition

if TYPE_CHECKING:
    from bcm_local.delivery.sink import ObjectSink


def complete(shards: Sequence[Shard], results: Iterable[Any]) -> dict[str, ShardResult]:
    """Each shard's result, by key; ShardError when any shard of the plan has none (or a
    result is of another delivery)."""
    if not shards:
        raise ShardError("no shards to finish")
    first = shards[0]
    if any(s.delivery != first.delivery for s in shards):
        raise ShardError("the shards are of more than one delivery")
    done = {str(r.key): r for r in results if isinstance(r, ShardResult)}
    foreign = [k for k, r in done.items() if r.delivery != first.delivery]
    missing = [str(s.key) for s in shards if str(s.key) not in done]
    if foreign or missing:
        named = ", ".join((missing or foreign)[:5]) + (" ..." if len(missing) > 5 else "")
        what = "have no result" if missing else "are results of another delivery"
        raise ShardError(
            f"{len(missing or foreign)} of {len(shards)} shards {what} ({named}): "
            "the delivery is incomplete and no manifest was written"
        )
    return done


def by_period(
    shards: Sequence[Shard], done: dict[str, ShardResult]
) -> Iterator[tuple[int, list[ShardResult]]]:
    """Each billing period's index and its shards' results, in period then group order."""
    for index in dict.fromkeys(s.period_index for s in shards):
        mine = sorted((s for s in shards if s.period_index == index), key=lambda s: s.key.group)
        yield index, [done[str(s.key)] for s in mine]


def move_in(sink: ObjectSink, results: Iterable[ShardResult], folder: str, content: str) -> None:
    """The parts the shards wrote under `folder` (their scratch target), into `sink`."""
    for result in results:
        for key in result.keys:
            sink.put_file(key, Path(folder) / key, content)


def finish(
    shards: Sequence[Shard], results: Iterable[Any], sink: ObjectSink | None = None
) -> list[str]:
    """Write the manifests of the delivery `shards` planned, from `results` (one per
    shard, any order; None or an exception for a shard that failed). Returns every key
    of the delivery, period by period: data parts, then the manifest(s). Raises
    ShardError and writes nothing when a shard has no result. `sink`: where the parts
    are (default: the shards' target)."""
    from bcm_local.delivery.layouts.aws import manifest
    from bcm_local.delivery.sql import Output
    from bcm_local.settings import Config

    done = complete(shards, results)
    first = shards[0]
    config = Config(first.values)
    periods = {p.index: p for p in periods_of(first)}
    bucket = first.bucket or first.target
    export = {"ExportArn": first.arn, "Name": first.name}
    scratch = Path(tempfile.mkdtemp(prefix="bcm-finish-"))
    written: list[str] = []
    try:
        sink = sink or open_sink(first, config, scratch)
        for index, found in by_period(shards, done):
            part = partition(first, periods[index])
            if any(r.columns != found[0].columns for r in found):
                raise ShardError(f"the shards of {found[0].key.period} wrote different columns")
            keys = [k for r in found for k in r.keys]
            listed = set(keys)
            for old in sink.list_keys(part.data_dir + "/") if not first.folder else []:
                if part.is_chunk(old, first.fmt) and old not in listed:
                    sink.delete(old)
            outs = [Output(n, t) for n, t in found[0].columns]
            body = manifest(export, first.delivery, bucket, part, keys, outs, first.fmt)
            manifests = [part.manifest_key] + ([part.latest_manifest_key] if part.folder else [])
            for key in manifests:
                sink.put_bytes(key, body, "application/json")
            written += [*keys, *manifests]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return written
