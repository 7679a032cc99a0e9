"""Cost Explorer answers kept ready-made: the serialized output of a call, by (operation,
account, parameters), valid while the bill it was computed from is the current one (a
new bill version is a new `Facts` object, so a kept answer of an older bill never
matches). Dashboards ask the same questions again and again; each is computed once per
bill version. `Kept` keeps any other value computed from a bill the same way (the
anomalies a monitor finds, services/ce/anomalies.py).

The outputs are built to the output shape exactly (strings, booleans, lists, maps: no
member the shape lacks, no None), so orjson writes what the model-driven serializer would
(tests/test_ce_api.py checks this)."""

from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson

from bcm_local.billing.queries.facts import Facts
from bcm_local.runtime import Context, Runtime
from bcm_local.wire.model import Serialized

KEEP = 256  # answers per server
KEEP_BYTES = 64 << 20

T = TypeVar("T")


class Kept(Generic[T]):
    """Up to `keep` values per server (and `budget` in all by `size`), each valid for the
    bill it was computed from; least recently used dropped first."""

    def __init__(self, keep: int, size: Callable[[T], int] | None = None, budget: int = 0):
        self._keep = keep
        self._size = size
        self._budget = budget
        self._kept: weakref.WeakKeyDictionary[Runtime, OrderedDict[str, tuple[Facts, T]]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def get(self, runtime: Runtime, bill: Facts, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            kept = self._kept.setdefault(runtime, OrderedDict())
            found = kept.get(key)
            if found is not None and found[0] is bill:
                kept.move_to_end(key)
                return found[1]
        value = compute()
        with self._lock:
            kept[key] = (bill, value)
            kept.move_to_end(key)
            size = self._size
            total = sum(size(v) for _, v in kept.values()) if size else 0
            while len(kept) > self._keep or (size and total > self._budget and len(kept) > 1):
                _, (_, dropped) = kept.popitem(last=False)
                total -= size(dropped) if size else 0
        return value


_ANSWERS: Kept[bytes] = Kept(KEEP, len, KEEP_BYTES)


def answer(
    ctx: Context,
    bill: Facts,
    operation: str,
    params: dict[str, Any],
    compute: Callable[[], dict[str, Any]],
    where: str = "",
) -> Serialized:
    """`where`: the condition the answer was computed under, when it is more than the
    parameters say (a billing view's slice, which its owner may change)."""
    key = "\n".join(
        (
            operation,
            ctx.account_id,
            json.dumps(params, sort_keys=True, separators=(",", ":")),
            where,
        )
    )
    return Serialized(_ANSWERS.get(ctx.runtime, bill, key, lambda: orjson.dumps(compute())))
