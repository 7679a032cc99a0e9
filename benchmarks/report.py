"""What the benchmark scripts share in their results: the machine's description and the
markdown table, written to benchmarks/results/."""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
HEADER = ("| what | bcm-local | baseline (same run) | ratio / goal |", "|---|---|---|---|")


def machine(*software: str) -> str:
    """Cores, CPU, RAM and Python, then `software` (e.g. the DuckDB version)."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")),
        platform.processor() or "?",
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem = next(int(ln.split()[1]) for ln in meminfo if ln.startswith("MemTotal"))
    facts = [f"{os.cpu_count()} cores ({cpu})", f"{mem // 2**20} GiB RAM"]
    return ", ".join([*facts, f"Python {platform.python_version()}", *software])


def markdown_rows(rows: Iterable[Sequence[str]]) -> list[str]:
    return [f"| {' | '.join(row)} |" for row in rows]


def markdown_table(rows: Iterable[Sequence[str]]) -> str:
    return "\n".join([*HEADER, *markdown_rows(rows)])


def write(name: str, title: str, machine: str, body: str) -> Path:
    """benchmarks/results/<name>: `title` with the time, the machine, then `body`."""
    out = RESULTS / name
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        f"# {title}, {dt.datetime.now():%Y-%m-%d %H:%M}\n\nMachine: {machine}\n\n{body}\n"
    )
    return out
