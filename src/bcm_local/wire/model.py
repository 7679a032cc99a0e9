"""The botocore service models, read straight from the installed botocore's data files.

botocore itself is not imported (it is slow to import and we only need its JSON); the
models are loaded lazily, once per service, on the first request that needs them.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

Shape = dict[str, Any]


def _botocore_data() -> Path:
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed; its service models are required")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@dataclass(frozen=True)
class Operation:
    name: str
    spec: dict[str, Any]
    input: str | None
    output: str | None
    errors: tuple[str, ...]

    @property
    def http(self) -> dict[str, str]:
        http: dict[str, str] = self.spec.get("http", {})
        return http


class ServiceModel:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.metadata: dict[str, Any] = raw["metadata"]
        self.shapes: dict[str, Shape] = raw["shapes"]
        self.operations: dict[str, Operation] = {
            name: Operation(
                name,
                op,
                op.get("input", {}).get("shape"),
                op.get("output", {}).get("shape"),
                tuple(e["shape"] for e in op.get("errors", [])),
            )
            for name, op in raw["operations"].items()
        }

    def shape(self, name: str) -> Shape:
        return self.shapes[name]

    def error_status(self, code: str) -> int:
        shape = self.shapes.get(code, {})
        status = shape.get("error", {}).get("httpStatusCode")
        if status:
            return int(status)
        return 500 if shape.get("fault") else 400


@cache
def load(service: str) -> ServiceModel:
    root = _botocore_data() / service
    version = sorted(p.name for p in root.iterdir() if p.is_dir())[-1]
    with gzip.open(root / version / "service-2.json.gz", "rt", encoding="utf-8") as fh:
        return ServiceModel(json.load(fh))


@dataclass(frozen=True)
class Serialized:
    """An operation's output already in its wire form (JSON bytes that follow the output
    shape exactly); the JSON protocol writes it as it is. For answers kept ready-made."""

    body: bytes
