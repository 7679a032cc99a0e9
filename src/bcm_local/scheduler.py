"""The one scheduler behind every `daily` emit mode (bcm-data-exports and cur).

Jobs are registered by name and run in a background thread every
`BCM_LOCAL_DAILY_INTERVAL_SECONDS` (86400 by default) after the previous tick. Run times
are the emulator's clock's (`last_run`, `next_run`), so a pinned clock's schedule runs
where the clock says, and the bill each run delivers is the bill at that moment. A failing
job is logged and retried at the next tick; it never stops the scheduler.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bcm_local.clock import Clock

log = logging.getLogger("bcm_local.scheduler")


class Scheduler:
    def __init__(self, interval: float, clock: Clock) -> None:
        self.interval = interval
        self.clock = clock
        self.last_run: float | None = None  # clock time of the last tick
        self.next_run: float | None = None  # clock time of the next one (while jobs exist)
        self.jobs: dict[str, Callable[[], None]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def register(self, name: str, job: Callable[[], None]) -> None:
        with self._lock:
            self.jobs[name] = job
            if self._thread is None:
                self.next_run = self.clock.time() + self.interval
                self._thread = threading.Thread(target=self._run, name="bcm-scheduler", daemon=True)
                self._thread.start()

    def run_once(self) -> None:
        with self._lock:
            jobs = list(self.jobs.items())
            self.last_run = self.clock.time()
        for name, job in jobs:
            try:
                job()
            except Exception:
                log.exception("scheduled job %s failed", name)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.next_run = self.clock.time() + self.interval
            self.run_once()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
