"""Entry points to the bill: which scenario, enumerators and settings make a dataset.

`open_dataset` is what export delivery, legacy CUR and `bcm-local emit` call."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bcm_local.billing import model, tables, views
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


def cur2_relation(
    runtime: Any,
    con: Any,
    account_id: str,
    start: datetime,
    end: datetime,
    properties: dict[str, str],
) -> str:
    """For legacy CUR: a view `cur2_rows` in `con` with the account's CUR 2.0 rows of the
    billing period [start, end) under `properties`; returns its name."""
    props = tables.resolve_properties(tables.CUR2, properties)
    now = min(datetime.now(UTC), end - timedelta(seconds=1))
    data = open_dataset(
        con,
        runtime.config,
        account_id,
        now,
        props["TIME_GRANULARITY"],
        runtime=runtime,
        backfill_months=0,
    )
    con.execute(f"CREATE OR REPLACE VIEW cur2_rows AS {views.table_sql(data, tables.CUR2, props)}")
    return "cur2_rows"


def prewarm() -> None:
    """Import the heavy libraries and run one tiny build (first delivery ~0.6 s faster).
    Meant for a background thread after start-up; costs ~100 MiB of RSS."""
    from bcm_local import settings

    con = connect()
    try:
        data = open_dataset(
            con,
            settings.load(env={}),
            "000000000000",
            datetime.now(UTC),
            "DAILY",
            backfill_months=0,
        )
        con.execute(f"SELECT count(*) FROM ({views.table_sql(data, tables.FOCUS_1_2)})").fetchall()
        import sqlglot  # noqa: F401
    finally:
        con.close()
