"""Cost Explorer answers kept ready-made: the serialized output of a call, by (operation,
account, parameters), valid while the bill it was computed from is the current one (a
new bill version is a new `Facts` object, so a kept answer of an older bill never
matches). Dashboards ask the same questions again and again; each is computed once per
bill version.

The outputs are built to the output shape exactly (strings, booleans, lists, maps: no
member the shape lacks, no None), so orjson writes what the model-driven serializer would
(tests/test_ce_api.py checks this)."""

from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson

from bcm_local.billing.queries.facts import Facts
from bcm_local.runtime import Context, Runtime
from bcm_local.wire.model import Serialized

KEEP = 256  # answers per server
KEEP_BYTES = 64 << 20

_KEPT: weakref.WeakKeyDictionary[Runtime, OrderedDict[str, tuple[Facts, bytes]]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


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
    with _LOCK:
        kept = _KEPT.setdefault(ctx.runtime, OrderedDict())
        found = kept.get(key)
        if found is not None and found[0] is bill:
            kept.move_to_end(key)
            return Serialized(found[1])
    body = orjson.dumps(compute())
    with _LOCK:
        kept[key] = (bill, body)
        kept.move_to_end(key)
        size = sum(len(b) for _, b in kept.values())
        while len(kept) > KEEP or (size > KEEP_BYTES and len(kept) > 1):
            _, (_, dropped) = kept.popitem(last=False)
            size -= len(dropped)
    return Serialized(body)
