"""Parquet column chunks of columns that hold one value per usage line, written as runs.

A line's value repeats on every row of the line, so a row group's column is a few hundred
runs: the chunk is a dictionary page (the values the row group uses, PLAIN) and one data
page whose definition levels and dictionary indices are RLE runs (the RLE/bit-packed
hybrid, runs only), snappy-compressed, with min/max/null/distinct statistics. Encoding
costs O(runs), not O(rows). Only imported by the run writer (numpy, pyarrow).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from bcm_local.delivery.runs import thrift as t


@dataclass
class LineColumn:
    """Values per line for one flat column: `ids[line]` indexes `plain` (-1: null)."""

    element: t.Struct  # the column's SchemaElement
    ids: Any  # numpy int64, one per line
    plain: list[bytes]  # each dictionary value PLAIN-encoded
    stat: list[bytes]  # each dictionary value as statistics bytes
    rank: Any  # numpy: position of each dictionary value in statistics order
    nan: Any  # numpy bool: dictionary value is NaN (no min/max then)

    @property
    def physical(self) -> int:
        return int(self.element[1][1])

    @property
    def optional(self) -> bool:
        return int(self.element.get(3, (0, t.REQUIRED))[1]) == t.OPTIONAL


def line_column(element: t.Struct, values: Any) -> LineColumn:
    """Dictionary-encode a pyarrow array of per-line values (strings, doubles, int32 or
    int64 already in the column's unit) for the column described by `element`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    physical = int(element[1][1])
    if physical == t.BYTE_ARRAY:
        encoded = pc.dictionary_encode(values.cast(pa.string()))
        ids = np.asarray(encoded.indices.fill_null(-1), dtype=np.int64)
        words = [s.encode() for s in encoded.dictionary.to_pylist()]
        plain = [struct.pack("<I", len(w)) + w for w in words]
        order = sorted(range(len(words)), key=words.__getitem__)
        rank = np.empty(len(words), dtype=np.int64)
        rank[order] = np.arange(len(words))
        return LineColumn(element, ids, plain, words, rank, np.zeros(len(words), bool))
    kinds = {
        t.DOUBLE_TYPE: ("<f8", np.float64),
        t.INT32: ("<i4", np.int32),
        t.INT64: ("<i8", np.int64),
    }
    if physical not in kinds:
        raise ValueError(f"no run encoding for Parquet type {physical}")
    code, dtype = kinds[physical]
    valid = ~np.asarray(values.is_null(), dtype=bool)
    raw = np.asarray(values.fill_null(0), dtype=dtype)
    bits = raw.view(np.int64 if raw.itemsize == 8 else np.int32)  # NaN and -0.0 stay distinct
    uniq, inverse = np.unique(bits[valid], return_inverse=True)
    ids = np.full(len(raw), -1, dtype=np.int64)
    ids[valid] = inverse
    dictionary = uniq.view(dtype)
    plain = [v.tobytes() for v in dictionary.astype(code)]
    rank = np.empty(len(dictionary), dtype=np.int64)
    rank[np.argsort(dictionary, kind="stable")] = np.arange(len(dictionary))
    nan = np.isnan(dictionary) if physical == t.DOUBLE_TYPE else np.zeros(len(dictionary), bool)
    stat = _numeric_stats(dictionary, physical)
    return LineColumn(element, ids, plain, stat, rank, nan)


def _numeric_stats(dictionary: Any, physical: int) -> list[bytes]:
    out = []
    for value in dictionary.tolist():
        if physical == t.DOUBLE_TYPE:
            out.append(struct.pack("<d", value))
        else:
            out.append(struct.pack("<i" if physical == t.INT32 else "<q", value))
    return out


def rle_streams(values: Any, lengths: Any, include: Any, value_bytes: Any) -> list[bytes]:
    """One RLE stream per row of the `values` matrix (columns x runs): run i of column c
    repeats `values[c, i]` `lengths[i]` times, skipped where `include` is False; values
    take `value_bytes[c]` bytes. Equal neighbours are merged."""
    count = values.shape[0]
    column = np.repeat(np.arange(count), values.shape[1])
    run_lengths = np.broadcast_to(lengths, values.shape).ravel()
    keep = include.ravel() & (run_lengths > 0)
    v, n, column = values.ravel()[keep], run_lengths[keep], column[keep]
    if not len(v):
        return [b""] * count
    change = np.empty(len(v), dtype=bool)
    change[0] = True
    change[1:] = (v[1:] != v[:-1]) | (column[1:] != column[:-1])
    starts = np.flatnonzero(change)
    header = np.add.reduceat(n, starts).astype(np.uint64) << np.uint64(1)
    v, column = v[starts].astype(np.uint64), column[starts]
    width = np.ones(len(header), dtype=np.int64)
    for k in range(1, 5):
        width += header >= np.uint64(1 << (7 * k))
    vb = value_bytes[column]
    size = width + vb
    at = np.cumsum(size) - size
    out = np.zeros(int(size.sum()), dtype=np.uint8)
    for k in range(5):
        has = width > k
        if not has.any():
            break
        byte = (header[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = np.where(width[has] > k + 1, np.uint64(0x80), np.uint64(0))
        out[at[has] + k] = (byte | more).astype(np.uint8)
    for j in range(int(vb.max())):
        has = vb > j
        out[at[has] + width[has] + j] = (v[has] >> np.uint64(8 * j)).astype(np.uint8)
    bounds = np.r_[0, np.cumsum(np.bincount(column, weights=size, minlength=count))]
    data = out.tobytes()
    return [data[int(bounds[c]) : int(bounds[c + 1])] for c in range(count)]


class LineColumns:
    """The line columns of an output, encoded together one row group at a time."""

    def __init__(self, columns: list[LineColumn]) -> None:
        self.columns = columns
        self.ids = np.stack([c.ids for c in columns]) if columns else np.zeros((0, 0), np.int64)
        self.width = max([len(c.plain) for c in columns], default=0) + 1

    def chunks(self, lines: Any, lengths: Any) -> list[tuple[bytes, t.Struct]]:
        """Each column's chunk for rows given as runs (`lines[i]` repeated `lengths[i]`
        times): (bytes, ColumnChunk with offsets from the chunk's start; see `place`)."""
        count = len(self.columns)
        if not count:
            return []
        ids = self.ids[:, lines]
        valid = ids >= 0
        keys = np.arange(count)[:, None] * self.width + ids
        used, inverse = np.unique(keys[valid], return_inverse=True)
        first = np.searchsorted(used // self.width, np.arange(count + 1))
        local = np.zeros(ids.shape, dtype=np.int64)
        local[valid] = inverse - first[np.nonzero(valid)[0]]
        sizes = np.diff(first)
        bits = np.array([max(1, int(n - 1).bit_length()) for n in sizes.tolist()], np.int64)
        ones = np.ones(count, np.int64)
        levels = rle_streams(valid.astype(np.int64), lengths, np.ones_like(valid), ones)
        indices = rle_streams(local, lengths, valid, (bits + 7) // 8)
        out = []
        for c, col in enumerate(self.columns):
            in_use = used[first[c] : first[c + 1]] - c * self.width
            nulls = int(lengths[~valid[c]].sum())
            if nulls and not col.optional:
                raise ValueError("nulls in a required column")
            body = struct.pack("<I", len(levels[c])) + levels[c] if col.optional else b""
            if len(in_use):
                body += bytes([int(bits[c])]) + indices[c]
            dictionary = [col.plain[i] for i in in_use.tolist()]
            path = [col.element[4][1]]
            rows = int(lengths.sum())
            out.append(column_chunk(col, path, dictionary, body, rows, in_use, nulls))
        return out


def column_chunk(
    col: LineColumn,
    path: list[bytes],
    dictionary: list[bytes],
    body: bytes,
    values: int,
    used: Any,
    nulls: int,
) -> tuple[bytes, t.Struct]:
    """A snappy column chunk: a dictionary page of the PLAIN `dictionary` values (none
    when it is empty), then one data page `body` of `values` level entries, with the
    statistics of the `used` dictionary values; offsets from the chunk's start (`place`)."""
    import pyarrow as pa

    out = bytearray()
    meta: t.Struct = {
        1: t.i32(col.physical),
        3: (t.LIST, (t.BINARY, path)),
        4: t.i32(t.SNAPPY),
        5: t.i64(values),
    }
    sizes = [0, 0]  # uncompressed, compressed (page headers included)
    if dictionary:
        meta[11] = t.i64(0)
        header = {7: t.sub({1: t.i32(len(dictionary)), 2: t.i32(t.PLAIN)})}
        _page(out, t.DICTIONARY_PAGE, b"".join(dictionary), header, sizes, pa)
    meta[9] = t.i64(len(out))
    encoding = t.RLE_DICTIONARY if dictionary else t.PLAIN
    levels_encoding = {3: t.i32(t.RLE), 4: t.i32(t.RLE)}
    data_header = {5: t.sub({1: t.i32(values), 2: t.i32(encoding), **levels_encoding})}
    _page(out, t.DATA_PAGE, body, data_header, sizes, pa)
    encodings = [t.PLAIN, t.RLE] + ([t.RLE_DICTIONARY] if dictionary else [])
    meta[2] = (t.LIST, (t.I32, encodings))
    meta[6], meta[7] = t.i64(sizes[0]), t.i64(sizes[1])
    meta[12] = t.sub(_statistics(col, used, nulls))
    return bytes(out), {2: t.i64(0), 3: t.sub(meta)}


def place(column: t.Struct, position: int) -> t.Struct:
    """The ColumnChunk with its page offsets moved by `position` bytes."""
    meta = dict(column[3][1])
    for fid in (9, 10, 11):
        if fid in meta:
            meta[fid] = t.i64(int(meta[fid][1]) + position)
    return {**column, 3: t.sub(meta)}


def _page(
    out: bytearray, kind: int, raw: bytes, extra: t.Struct, sizes: list[int], pa: Any
) -> None:
    """Append a snappy page with its header; `sizes` accumulates (raw, stored) bytes."""
    packed = pa.compress(raw, codec="snappy", asbytes=True)
    header = t.encode({1: t.i32(kind), 2: t.i32(len(raw)), 3: t.i32(len(packed)), **extra})
    out += header
    out += packed
    sizes[0] += len(header) + len(raw)
    sizes[1] += len(header) + len(packed)


def _statistics(col: LineColumn, used: Any, nulls: int) -> t.Struct:
    """Null and distinct counts, and min/max of the dictionary values in use."""
    stats: t.Struct = {3: t.i64(nulls), 4: t.i64(len(used))}
    if not len(used) or col.nan[used].any():
        return stats
    ranks = col.rank[used]
    low, high = col.stat[int(used[ranks.argmin()])], col.stat[int(used[ranks.argmax()])]
    if col.physical == t.DOUBLE_TYPE:  # the spec's signed-zero rule for min/max
        low = struct.pack("<d", -0.0) if struct.unpack("<d", low)[0] == 0 else low
        high = struct.pack("<d", 0.0) if struct.unpack("<d", high)[0] == 0 else high
    if col.physical != t.BYTE_ARRAY:  # legacy min/max: signed order, fine for numbers
        stats[1], stats[2] = t.binary(high), t.binary(low)
    stats[5], stats[6] = t.binary(high), t.binary(low)
    stats[7], stats[8] = (t.BOOL, True), (t.BOOL, True)
    return stats
