"""`bcm-local emit`'s progress display on stderr.

On a terminal one status line is redrawn in place (with the completion percentage of the
file being written: the run writer's share of rows written, else DuckDB's query progress,
polled in a background thread); elsewhere (`--progress` with stderr
redirected) each finished billing period is one plain line, so logs stay readable."""

from __future__ import annotations

import threading
import time
from typing import Any, TextIO


class Progress:
    def __init__(self, stream: TextIO, live: bool) -> None:
        self.stream, self.live = stream, live
        self.periods = 0
        self.con: Any = None
        self.started = time.monotonic()
        self.done = 0
        self.files = 0
        self.rows = 0
        self.current = ""
        self.share: float | None = None  # set through `written` by the run writer
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._poller: threading.Thread | None = None

    def attach(self, periods: int, con: Any) -> None:
        """The delivery's bill is open: `periods` partitions will be written on `con`."""
        self.periods, self.con = periods, con
        if self.live:
            # progress tracking without DuckDB's own bar (which would print to stdout)
            con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
            self._poller = threading.Thread(target=self._poll, daemon=True)
            self._poller.start()

    def _status(self) -> str:
        elapsed = time.monotonic() - self.started
        return (
            f"bcm-local emit: {self.done}/{self.periods} periods, {self.files} files, "
            f"{self.rows:,} rows, {elapsed:.1f}s"
        )

    def _draw(self, text: str) -> None:
        with self._lock:
            self.stream.write(f"\r\x1b[2K{text}" if self.live else text + "\n")
            self.stream.flush()

    def start(self, label: str) -> None:
        """A billing period starts being written."""
        self.current, self.share = label, None
        if self.live:
            self._draw(f"{self._status()} | writing {label}")

    def written(self, share: float) -> None:
        """The share of the current period's rows written so far (run writer)."""
        self.share = share

    def finished(self, label: str, files: int, rows: int) -> None:
        """A billing period's files are written."""
        self.done += 1
        self.files += files
        self.rows += rows
        self.current = ""
        if self.live:
            self._draw(self._status())
        else:
            self._draw(f"{self._status()} | {label}: {files} files, {rows:,} rows")

    def close(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join()
        if self.live:
            with self._lock:
                self.stream.write("\n")
                self.stream.flush()

    def _poll(self) -> None:
        while not self._stop.wait(0.25):
            label = self.current
            if not label:
                continue
            try:
                share = self.share
                percent = 100 * share if share is not None else float(self.con.query_progress())
            except Exception:
                continue
            if percent >= 0:
                self._draw(f"{self._status()} | writing {label} {percent:.0f}%")


class ShardProgress:
    """`bcm-local emit`'s progress across shards: on a terminal a rich bar (shards done,
    rows, MB, rows/s, ETA), elsewhere one plain line per finished shard. `done` takes a
    ShardResult (delivery/shards/task.py)."""

    def __init__(self, stream: TextIO, live: bool, total: int, workers: int) -> None:
        self.stream, self.live, self.total = stream, live, total
        self.started = time.monotonic()
        self.shards = self.rows = self.bytes = 0
        self.bar: Any = None
        if live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn(f"bcm-local emit, {workers} workers"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("shards · {task.fields[rows]:,} rows · {task.fields[mb]:,.1f} MB"),
                TextColumn("· {task.fields[rate]:,.0f} rows/s · ETA"),
                TimeRemainingColumn(),
                console=Console(file=stream),
                transient=False,
                auto_refresh=False,  # no drawing thread: the workers fork from this process
            )
            self.task = self.bar.add_task("emit", total=total, rows=0, mb=0.0, rate=0.0)
            self.bar.start()
            self.bar.refresh()

    def done(self, result: Any) -> None:
        self.shards += 1
        self.rows += int(result.rows)
        self.bytes += int(result.bytes)
        rate = self.rows / max(time.monotonic() - self.started, 1e-9)
        mb = self.bytes / 2**20
        if self.bar is not None:
            self.bar.update(self.task, advance=1, rows=self.rows, mb=mb, rate=rate)
            self.bar.refresh()
            return
        self.stream.write(
            f"bcm-local emit: {self.shards}/{self.total} shards, {self.rows:,} rows, "
            f"{mb:,.1f} MB, {rate:,.0f} rows/s | {result.key}: {result.rows:,} rows in "
            f"{len(result.keys)} files\n"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
