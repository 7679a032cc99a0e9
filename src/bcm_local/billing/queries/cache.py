"""Bills kept built, per server: what Cost Explorer and the console's bill page answer from.

A bill is identified by (account, scenario file and its mtime, seed, backfill, scale, and
whatever the kind adds) and is current for one (hour, state of the account's buckets,
its cost categories and cost allocation tags): the open month grows by the hour, the
emulator's own buckets are billed and definitions rewrite the lines. Each kind of
bill (Cost Explorer's daily and hourly facts, the console's FOCUS aggregate) is one
`BillCache` with its own build function.

`get` answers a current bill, building it first when the one kept is stale (what Cost
Explorer needs: its figures must equal an export of the same moment). `get_or_stale`
answers the kept one at once while a worker rebuilds it (what the console's page needs).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from bcm_local.billing import definitions
from bcm_local.runtime import Runtime

log = logging.getLogger("bcm_local.bill")

T = TypeVar("T")
Build = Callable[[Runtime, str, datetime], T]


def bill_key(runtime: Runtime, account: str, now: datetime) -> tuple[tuple[Any, ...], Hashable]:
    """(what identifies the account's bill, what makes it current)."""
    config = runtime.config
    path = str(config.billing_scenario)
    mtime = Path(path).stat().st_mtime if path else 0.0
    buckets: tuple[Any, ...] = ()
    if config.s3_enabled:
        from bcm_local.objects.backend import s3_backend

        buckets = tuple(s3_backend(runtime).bucket_stats(account))
    hour = now.replace(minute=0, second=0, microsecond=0)
    defined = definitions.version(runtime.store, account)  # categories, tag statuses
    settings = (config.billing_seed, config.billing_backfill_months, config.billing_scale)
    return (account, path, mtime, *settings), (hour, buckets, defined)


@dataclass
class _Slot(Generic[T]):
    bill: T
    fresh: Hashable
    refreshing: bool = False


class BillCache(Generic[T]):
    """Up to `keep` built bills per runtime, least recently used dropped first."""

    def __init__(self, build: Build[T], keep: int = 8) -> None:
        self._build = build
        self._keep = keep
        self._slots: weakref.WeakKeyDictionary[Runtime, OrderedDict[Any, _Slot[T]]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()  # guards the slots
        self._building = threading.Lock()  # one build at a time; kept bills stay readable

    def _slot(self, runtime: Runtime, key: Any) -> _Slot[T] | None:
        with self._lock:
            slots = self._slots.setdefault(runtime, OrderedDict())
            slot = slots.get(key)
            if slot is not None:
                slots.move_to_end(key)
            return slot

    def _store(self, runtime: Runtime, key: Any, slot: _Slot[T]) -> None:
        with self._lock:
            slots = self._slots.setdefault(runtime, OrderedDict())
            slots[key] = slot
            slots.move_to_end(key)
            while len(slots) > self._keep:  # connections close when the last reader lets go
                slots.popitem(last=False)

    def get(self, runtime: Runtime, account: str) -> tuple[T, datetime]:
        """The current bill and the moment it was built for (built now if need be)."""
        now = runtime.clock.now()
        key, fresh = bill_key(runtime, account, now)
        slot = self._slot(runtime, key)
        if slot is not None and slot.fresh == fresh:
            return slot.bill, now
        with self._building:  # a second caller for the same bill waits, then finds it
            slot = self._slot(runtime, key)
            if slot is None or slot.fresh != fresh:
                slot = _Slot(self._build(runtime, account, now), fresh)
                self._store(runtime, key, slot)
        return slot.bill, now

    def get_or_stale(self, runtime: Runtime, account: str) -> T:
        """The kept bill, even when no longer current (a worker then rebuilds it); built
        now only when there is none."""
        now = runtime.clock.now()
        key, fresh = bill_key(runtime, account, now)
        slot = self._slot(runtime, key)
        if slot is not None:
            if slot.fresh != fresh and not slot.refreshing:
                slot.refreshing = True
                try:
                    runtime.workers.submit(self._refresh, runtime, account, key)
                except RuntimeError:  # the server is shutting down
                    slot.refreshing = False
            return slot.bill
        return self.get(runtime, account)[0]

    def prefetch(self, runtime: Runtime, account: str) -> None:
        """Start building the account's bill in a worker if there is none yet."""
        try:
            key, _ = bill_key(runtime, account, runtime.clock.now())
        except OSError:  # a missing scenario file: the caller reports it when it asks
            return
        if self._slot(runtime, key) is not None or self._building.locked():
            return
        with contextlib.suppress(RuntimeError):  # the server is shutting down
            runtime.workers.submit(self._refresh, runtime, account, key)

    def _refresh(self, runtime: Runtime, account: str, key: Any) -> None:
        try:
            with self._building:
                now = runtime.clock.now()
                _, fresh = bill_key(runtime, account, now)
                slot = self._slot(runtime, key)
                if slot is None or slot.fresh != fresh:
                    self._store(runtime, key, _Slot(self._build(runtime, account, now), fresh))
        except Exception as err:
            log.warning("building the bill of %s failed: %s", account, err)
            slot = self._slot(runtime, key)
            if slot is not None:
                slot.refreshing = False
