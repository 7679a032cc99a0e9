"""The running emulator's shared parts: settings, the state store, the object root and
the worker pool that deliveries run in. One instance per server process."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bcm_local.clock import Clock
from bcm_local.scheduler import Scheduler
from bcm_local.settings import Config
from bcm_local.store import Store

T = TypeVar("T")

# the account of a request without an account in its credentials (and of the console)
DEFAULT_ACCOUNT = "000000000000"


class Runtime:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.clock = Clock(config.now)
        self.started_at = self.clock.time()
        self.started_monotonic = time.monotonic()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if config.data_dir:
            self.root = Path(config.data_dir).resolve()
            self.root.mkdir(parents=True, exist_ok=True)
            self.store = Store(self.root / "state.sqlite3")
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="bcm-local-")
            self.root = Path(self._tmp.name)
            self.store = Store(None)
        self.workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bcm-worker")
        self.scheduler = Scheduler(float(config.daily_interval_seconds), self.clock)
        self.on_close: list[Callable[[], None]] = []

    @property
    def uptime(self) -> float:
        """Seconds since the server started (a duration: not the clock's business)."""
        return round(time.monotonic() - self.started_monotonic, 3)

    @property
    def persistent(self) -> bool:
        return self._tmp is None

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work (a delivery, a large file write) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.workers, fn, *args)

    def close(self) -> None:
        self.scheduler.stop()
        for hook in self.on_close:
            hook()
        self.workers.shutdown(wait=True, cancel_futures=False)
        self.store.close()
        if self._tmp is not None:
            self._tmp.cleanup()


@dataclass(frozen=True)
class Context:
    """What an operation knows about its call: who, where, and the runtime to act on."""

    runtime: Runtime
    account_id: str
    region: str
    request_id: str
    endpoint: str = ""  # the URL the caller reached the server at (http://<Host>), if known

    @property
    def store(self) -> Store:
        return self.runtime.store

    @property
    def config(self) -> Config:
        return self.runtime.config

    @property
    def clock(self) -> Clock:
        return self.runtime.clock
