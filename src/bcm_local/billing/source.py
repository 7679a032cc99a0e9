"""Entry points to the bill: which scenario, enumerators and settings make a dataset.

`open_dataset` is what export delivery, legacy CUR and `bcm-local emit` call."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from bcm_local.billing import model, tables
from bcm_local.billing.scenario import Scenario, from_dict, load
from bcm_local.billing.usage import ResourceUsageEnumerator, entry_point_enumerators

_CACHE: dict[tuple[str, float], Scenario] = {}
_LOCK = threading.Lock()


def scenario_of(path: str) -> Scenario:
    """The scenario file's content (cached until the file changes), or the default."""
    key = (path, Path(path).stat().st_mtime) if path else ("", 0.0)
    with _LOCK:
        if key not in _CACHE:
            if path:
                _CACHE[key] = load(path)
            else:
                from bcm_local.billing.default_scenario import DEFAULT_SCENARIO

                _CACHE[key] = from_dict(DEFAULT_SCENARIO)
        return _CACHE[key]


def enumerators() -> list[ResourceUsageEnumerator]:
    from bcm_local.billing.s3usage import S3BucketsEnumerator
    from bcm_local.billing.synthetic import SyntheticEnumerator

    return [SyntheticEnumerator(), S3BucketsEnumerator(), *entry_point_enumerators()]


def granularity_of(table: str, props: dict[str, str]) -> str:
    """Time granularity the table's rows need from the model."""
    if table in (tables.RECOMMENDATIONS, tables.CARBON):
        return "MONTHLY"
    return props.get("TIME_GRANULARITY", "DAILY")


def connect(temp_dir: Path | None = None) -> Any:
    import duckdb

    config: dict[str, Any] = {"threads": 2, "preserve_insertion_order": True}
    if temp_dir is not None:
        config["temp_directory"] = str(temp_dir)
    return duckdb.connect(":memory:", config=config)


def open_dataset(
    con: Any,
    config: Any,
    account_id: str,
    now: datetime,
    granularity: str,
    *,
    runtime: Any = None,
    backfill_months: int | None = None,
    scenario: Scenario | None = None,
) -> model.Dataset:
    return model.build(
        con,
        account_id=account_id,
        now=now,
        scenario=scenario or scenario_of(str(config.billing_scenario)),
        seed=int(config.billing_seed),
        enumerators=enumerators(),
        granularity=granularity,
        backfill_months=int(
            config.billing_backfill_months if backfill_months is None else backfill_months
        ),
        scale=max(1, int(config.billing_scale)),
        runtime=runtime,
    )
