"""Parquet column chunks of MAP columns that hold one map per usage line, as runs.

A MAP is two leaf columns (`<name>.key_value.key`, `<name>.key_value.value`) with
repetition and definition levels per entry. A line's map repeats on each of its rows, so
a run of n rows is the line's level and index pattern n times: each stream gets one RLE
run per run of rows when the pattern is constant (a single entry, defined values), else
one bit-packed run of the pattern repeated (a period of packed bytes, tiled). The
dictionaries are global to the column (keys and values of every line), so a line's
patterns are encoded once. Only imported by the run writer (numpy, pyarrow).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from bcm_local.delivery.runs import thrift as t
from bcm_local.delivery.runs.columns import LineColumn, column_chunk, line_column


def _varint(n: int) -> bytes:
    out = bytearray()
    t.varint(out, n)
    return bytes(out)


def _run(value: int, count: int, width: int) -> bytes:
    return _varint(count << 1) + value.to_bytes(width, "little")


class _Periodic:
    """A line's stream of varying values, repeated once per row of the line: written as
    one bit-packed run (the packed bytes of a period of lcm(len, 8) values, tiled) and
    at most 7 single-value RLE runs for what does not fill a group of 8."""

    def __init__(self, values: list[int], bits: int) -> None:
        self.values, self.bits = values, bits
        period = math.lcm(len(values), 8)
        packed = 0
        for i in range(period):
            packed |= values[i % len(values)] << (i * bits)
        self.packed = packed.to_bytes(period * bits // 8, "little")
        self.cache: dict[int, bytes] = {}

    def encode(self, repeat: int) -> bytes:
        if repeat not in self.cache:
            count = repeat * len(self.values)
            groups = count // 8
            size = groups * self.bits  # bytes of 8 * groups values
            body = self.packed * (size // len(self.packed) + 1)
            out = _varint(groups << 1 | 1) + body[:size] if groups else b""
            width = (self.bits + 7) // 8
            for i in range(groups * 8, count):
                out += _run(self.values[i % len(self.values)], 1, width)
            self.cache[repeat] = out
        return self.cache[repeat]


def _pattern(values: list[int], bits: int) -> _Periodic | int:
    """A line's stream: the value when constant, else its periodic encoding."""
    if len(set(values)) == 1:
        return values[0]
    return _Periodic(values, bits)


class _Stream:
    """An RLE/bit-packed stream built run of rows by run; equal constants merge."""

    def __init__(self, width: int) -> None:
        self.width = (width + 7) // 8
        self.parts: list[bytes] = []
        self.value, self.count = 0, 0

    def add(self, pattern: _Periodic | int, repeat: int, length: int) -> None:
        """`repeat` copies of a line's pattern covering `length` values."""
        if isinstance(pattern, int):
            if self.count and pattern != self.value:
                self._flush()
            self.value, self.count = pattern, self.count + length
            return
        self._flush()
        self.parts.append(pattern.encode(repeat))

    def _flush(self) -> None:
        if self.count:
            self.parts.append(_run(self.value, self.count, self.width))
            self.count = 0

    def data(self) -> bytes:
        self._flush()
        return b"".join(self.parts)


@dataclass
class MapColumn:
    """One map per line: entries `offsets[l]:offsets[l] + counts[l]` (-1: null map)."""

    name: bytes
    elements: list[t.Struct]  # the map group, key_value, key, value
    counts: Any
    offsets: Any
    keys: LineColumn  # one id per entry
    values: LineColumn
    # per line: repetition, key and value definition levels, key and value ids (each a
    # constant or a periodic pattern; None: no values) and its number of non-null values
    levels: list[tuple[Any, Any, Any, Any, Any, int]]


def _optional(element: t.Struct) -> bool:
    return int(element.get(3, (0, t.REQUIRED))[1]) == t.OPTIONAL


def map_column(elements: list[t.Struct], maps: Any) -> MapColumn:
    """Per-line maps (a pyarrow MapArray; null: a NULL map) for the MAP field described by
    `elements`."""
    import pyarrow as pa

    maps = maps.combine_chunks() if isinstance(maps, pa.ChunkedArray) else maps
    bounds = np.asarray(maps.offsets, dtype=np.int64)
    counts = np.where(np.asarray(maps.is_null(), dtype=bool), -1, np.diff(bounds))
    entries = slice(int(bounds[0]), int(bounds[-1]))
    offsets = bounds[:-1] - int(bounds[0])
    key_col = line_column(elements[2], maps.keys[entries])
    value_col = line_column(elements[3], maps.items[entries])
    base = 1 if _optional(elements[0]) else 0
    value_def = 1 if _optional(elements[3]) else 0
    key_bits = max(1, (len(key_col.plain) - 1).bit_length())
    value_bits = max(1, (len(value_col.plain) - 1).bit_length())
    key_ids, value_ids = key_col.ids.tolist(), value_col.ids.tolist()
    known: dict[tuple[int, ...], tuple[Any, Any, Any, Any, Any, int]] = {}
    levels = []
    for first, count in zip(offsets.tolist(), counts.tolist(), strict=True):
        ids = tuple(key_ids[first : first + count] + value_ids[first : first + count])
        if (count, *ids) not in known:  # replicas share their template's map
            known[(count, *ids)] = _line_levels(count, ids, base, value_def, key_bits, value_bits)
        levels.append(known[(count, *ids)])
    return MapColumn(elements[0][4][1], elements, counts, offsets, key_col, value_col, levels)


def _line_levels(
    count: int, ids: tuple[int, ...], base: int, value_def: int, key_bits: int, value_bits: int
) -> tuple[Any, Any, Any, Any, Any, int]:
    if count <= 0:  # NULL or empty map: one level entry and no value
        d = 0 if count < 0 else base
        return (0, d, d, None, None, 0)
    keys, values = list(ids[:count]), list(ids[count:])
    defs = [base + 1 + (value_def if v >= 0 else 0) for v in values]
    present = [v for v in values if v >= 0]
    return (
        _pattern([0] + [1] * (count - 1), 1),
        base + 1,
        _pattern(defs, 2),
        _pattern(keys, key_bits),
        _pattern(present, value_bits) if present else None,
        len(present),
    )


def map_chunks(col: MapColumn, lines: Any, lengths: Any) -> list[tuple[bytes, t.Struct]]:
    """The key and value chunks of one row group (runs of rows: `lines`, `lengths`)."""
    key_bits = max(1, (len(col.keys.plain) - 1).bit_length())
    value_bits = max(1, (len(col.values.plain) - 1).bit_length())
    rep, key_def, value_def = _Stream(1), _Stream(2), _Stream(2)
    key_ids, value_ids = _Stream(key_bits), _Stream(value_bits)
    total = present = 0
    counts = col.counts[lines]
    for line, n, count in zip(lines.tolist(), lengths.tolist(), counts.tolist(), strict=True):
        reps, defs_key, defs_value, ids, vids, values = col.levels[line]
        size = n * max(count, 1)
        total += size
        present += n * values
        rep.add(reps, n, size)
        key_def.add(defs_key, n, size)
        value_def.add(defs_value, n, size)
        if ids is not None:
            key_ids.add(ids, n, n * count)
        if vids is not None:
            value_ids.add(vids, n, n * values)
    levels = _levels(rep.data())
    used_keys, used_values = _used(col, np.unique(lines))
    key_nulls = int(lengths[counts <= 0].sum())
    key_levels = levels + _levels(key_def.data())
    value_levels = levels + _levels(value_def.data())
    return [
        _leaf(col, 2, col.keys, used_keys, key_levels, key_ids, total, key_nulls),
        _leaf(col, 3, col.values, used_values, value_levels, value_ids, total, total - present),
    ]


def _levels(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data


def _used(col: MapColumn, lines: Any) -> tuple[Any, Any]:
    owner = np.repeat(np.arange(len(col.counts)), np.maximum(col.counts, 0))
    mine = np.isin(owner, lines)
    keys, values = col.keys.ids[mine], col.values.ids[mine]
    return np.unique(keys[keys >= 0]), np.unique(values[values >= 0])


def _leaf(
    col: MapColumn,
    index: int,
    leaf: LineColumn,
    used: Any,
    levels: bytes,
    ids: _Stream,
    total: int,
    nulls: int,
) -> tuple[bytes, t.Struct]:
    path = [col.name, col.elements[1][4][1], col.elements[index][4][1]]
    body = levels
    if leaf.plain:  # the dictionary is the column's whole (every line's values)
        body += bytes([max(1, (len(leaf.plain) - 1).bit_length())]) + ids.data()
    return column_chunk(leaf, path, leaf.plain, body, total, used, nulls)
