"""Output shapes to JSON-ready values, compiled once per shape.

Members outside the shape are dropped, None members omitted, timestamps written in the
model's `timestampFormat` (epoch seconds when none is given, as JSON 1.1 does) and blobs
base64-encoded. Scalars pass through untouched, so the common case costs one dict
comprehension per structure.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from bcm_local.wire.model import ServiceModel

Convert = Callable[[Any], Any]


def _epoch(value: float | datetime) -> float:
    seconds = value.timestamp() if isinstance(value, datetime) else float(value)
    return round(seconds, 3)


def _iso8601(value: float | datetime) -> str:
    return _iso8601_seconds(_epoch(value))


@lru_cache(maxsize=8192)
def _iso8601_seconds(seconds: float) -> str:
    """Stored timestamps repeat across listings, so their text is cached."""
    whole = int(seconds // 1)
    millis = round((seconds - whole) * 1000)
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def _blob(value: bytes | str) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode()


class Serializer:
    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self._compiled: dict[str, Convert | None] = {}

    def __call__(self, shape_name: str, value: Any) -> Any:
        convert = self._converter(shape_name)
        return convert(value) if convert else value

    def _converter(self, name: str) -> Convert | None:
        """None means "pass the value through as it is"."""
        if name not in self._compiled:
            self._compiled[name] = lambda v: self(name, v)  # breaks recursion
            self._compiled[name] = self._compile(self.model.shape(name))
        return self._compiled[name]

    def _compile(self, shape: dict[str, Any]) -> Convert | None:
        kind = shape["type"]
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            item = self._converter(shape["member"]["shape"])
            return (lambda v: [item(x) for x in v]) if item else list
        if kind == "map":
            val = self._converter(shape["value"]["shape"])
            return (lambda v: {k: val(x) for k, x in v.items()}) if val else dict
        if kind == "timestamp":
            return _iso8601 if shape.get("timestampFormat") == "iso8601" else _epoch
        if kind == "blob":
            return _blob
        return None

    def _structure(self, shape: dict[str, Any]) -> Convert:
        members = {
            m: self._converter(spec["shape"]) for m, spec in shape.get("members", {}).items()
        }

        def convert(value: dict[str, Any]) -> dict[str, Any]:
            out = {}
            for key, item in value.items():
                if item is None or key not in members:
                    continue
                fn = members[key]
                out[key] = fn(item) if fn else item
            return out

        return convert
