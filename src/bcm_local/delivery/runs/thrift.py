"""Parquet's footer and page headers: the Thrift compact protocol, generically.

A struct decodes to `{field id: (type, value)}` in wire order and encodes back byte for
byte, so a footer written by DuckDB can be read, edited (offsets, row groups) and written
again without this module knowing every field. Lists are `(element type, [values])`;
booleans use type BOOL with a Python bool. Field ids of parquet.thrift are named where
the run writer uses them.
"""

from __future__ import annotations

import struct
from typing import Any

BOOL, BYTE, I16, I32, I64, DOUBLE, BINARY = 1, 3, 4, 5, 6, 7, 8
LIST, SET, MAP, STRUCT = 9, 10, 11, 12
_FALSE = 2  # compact protocol: a false boolean field is written with type 2

Struct = dict[int, tuple[int, Any]]

# parquet.thrift enums
INT32, INT64, DOUBLE_TYPE, BYTE_ARRAY = 1, 2, 5, 6
REQUIRED, OPTIONAL = 0, 1
PLAIN, RLE, RLE_DICTIONARY = 0, 3, 8
SNAPPY = 1
DATA_PAGE, DICTIONARY_PAGE = 0, 2
MAP_TYPE = 1  # ConvertedType MAP


class ThriftError(ValueError):
    pass


def decode(data: bytes, pos: int = 0) -> tuple[Struct, int]:
    """The struct starting at `pos` and the position after it."""
    reader = _Reader(data, pos)
    return reader.struct(), reader.pos


def encode(value: Struct) -> bytes:
    """The struct in compact protocol; a STRUCT value may be given already encoded."""
    out = bytearray()
    _struct(out, value)
    return bytes(out)


class _Reader:
    def __init__(self, data: bytes, pos: int) -> None:
        self.data, self.pos = data, pos

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise ThriftError("truncated Thrift data")
        self.pos += 1
        return self.data[self.pos - 1]

    def varint(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def struct(self) -> Struct:
        fields: Struct = {}
        last = 0
        while True:
            head = self.byte()
            if head == 0:
                return fields
            kind, delta = head & 0x0F, head >> 4
            fid = last + delta if delta else self.zigzag()
            if kind in (BOOL, _FALSE):
                fields[fid] = (BOOL, kind == BOOL)
            else:
                fields[fid] = (kind, self.value(kind))
            last = fid

    def value(self, kind: int) -> Any:
        if kind == BYTE:
            return self.byte()
        if kind in (I16, I32, I64):
            return self.zigzag()
        if kind == DOUBLE:
            self.pos += 8
            return struct.unpack("<d", self.data[self.pos - 8 : self.pos])[0]
        if kind == BINARY:
            size = self.varint()
            self.pos += size
            return bytes(self.data[self.pos - size : self.pos])
        if kind in (LIST, SET):
            head = self.byte()
            size, element = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            if element in (BOOL, _FALSE):
                return (BOOL, [self.byte() == BOOL for _ in range(size)])
            return (element, [self.value(element) for _ in range(size)])
        if kind == STRUCT:
            return self.struct()
        raise ThriftError(f"unsupported Thrift type {kind}")


def varint(out: bytearray, n: int) -> None:
    """Append unsigned `n` as a ULEB128 varint (Thrift's, and Parquet's RLE run headers)."""
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _zigzag(out: bytearray, n: int) -> None:
    varint(out, (n << 1) ^ (n >> 63))


def _struct(out: bytearray, fields: Struct) -> None:
    last = 0
    for fid in sorted(fields):
        kind, value = fields[fid]
        wire = (BOOL if value else _FALSE) if kind == BOOL else kind
        if 0 < fid - last <= 15:
            out.append((fid - last) << 4 | wire)
        else:
            out.append(wire)
            _zigzag(out, fid)
        if kind != BOOL:
            _value(out, kind, value)
        last = fid
    out.append(0)


def _value(out: bytearray, kind: int, value: Any) -> None:
    if kind == BYTE:
        out.append(value & 0xFF)
    elif kind in (I16, I32, I64):
        _zigzag(out, value)
    elif kind == DOUBLE:
        out += struct.pack("<d", value)
    elif kind == BINARY:
        varint(out, len(value))
        out += value
    elif kind in (LIST, SET):
        element, items = value
        if len(items) < 15:
            out.append(len(items) << 4 | element)
        else:
            out.append(0xF0 | element)
            varint(out, len(items))
        for item in items:
            if element == BOOL:
                out.append(BOOL if item else _FALSE)
            else:
                _value(out, element, item)
    elif kind == STRUCT and isinstance(value, bytes):
        out += value  # already encoded
    elif kind == STRUCT:
        _struct(out, value)
    else:
        raise ThriftError(f"unsupported Thrift type {kind}")


def i32(value: int) -> tuple[int, int]:
    return (I32, value)


def i64(value: int) -> tuple[int, int]:
    return (I64, value)


def binary(value: bytes) -> tuple[int, bytes]:
    return (BINARY, value)


def sub(value: Struct) -> tuple[int, Struct]:
    return (STRUCT, value)


def items(value: Struct, fid: int) -> list[Any]:
    """The elements of list field `fid` (empty when absent)."""
    found = value.get(fid)
    return list(found[1][1]) if found else []


def read_footer(path: Any) -> tuple[Struct, int]:
    """(FileMetaData, byte offset where the footer starts) of a Parquet file."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        if size < 12:
            raise ThriftError(f"{path} is not a Parquet file")
        f.seek(size - 8)
        tail = f.read(8)
        if tail[4:] != b"PAR1":
            raise ThriftError(f"{path} is not a Parquet file")
        length = struct.unpack("<I", tail[:4])[0]
        f.seek(size - 8 - length)
        meta, _ = decode(f.read(length))
        return meta, size - 8 - length
