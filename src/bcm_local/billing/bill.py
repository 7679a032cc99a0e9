"""Entry points to the bill: which scenario, enumerators and settings make a dataset.

`open_dataset` is what export delivery, legacy CUR and `bcm-local emit` call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bcm_local.billing import categories, definitions, tables
from bcm_local.billing.model import build as model
from bcm_local.billing.model.shard import LineShard
from bcm_local.billing.scenario.definition import Scenario
from bcm_local.billing.scenario.files import scenario_of
from bcm_local.billing.usage.lines import ResourceUsageEnumerator, entry_point_enumerators


def enumerators() -> list[ResourceUsageEnumerator]:
    from bcm_local.billing.usage.emulator_s3 import S3BucketsEnumerator
    from bcm_local.billing.usage.synthetic import SyntheticEnumerator

    return [SyntheticEnumerator(), S3BucketsEnumerator(), *entry_point_enumerators()]


def granularity_of(table: str, props: dict[str, str]) -> str:
    """Time granularity the table's rows need from the model."""
    if table in (tables.RECOMMENDATIONS, tables.CARBON):
        return "MONTHLY"
    return props.get("TIME_GRANULARITY", "DAILY")


def connect(temp_dir: Path | None = None, threads: int = 2) -> Any:
    import duckdb

    config: dict[str, Any] = {"threads": threads, "preserve_insertion_order": True}
    if temp_dir is not None:
        config["temp_directory"] = str(temp_dir)
    con = duckdb.connect(":memory:", config=config)
    # ICU's zone defaults to the machine's; bytes must not depend on where they are made
    # (the setting can only be SET once ICU is loaded, not passed in config)
    con.execute("SET TimeZone = 'UTC'")
    return con


def arrow(result: Any) -> Any:
    """A DuckDB relation's or query result's rows as an Arrow table (2.x: to_arrow_table;
    1.x: arrow / fetch_arrow_table)."""
    fetch = getattr(result, "to_arrow_table", None) or getattr(result, "fetch_arrow_table", None)
    return (fetch or result.arrow)()


def materialise(rows: Any, statement: str, threads: int) -> Any:
    """A small in-memory DuckDB of its own, made by `statement` from the Arrow table `rows`
    (seen as the view `rows`): what a query side keeps of a bill after the bill's own
    connection is closed."""
    small = connect(threads=threads)
    small.register("rows", rows)
    small.execute(statement)
    small.unregister("rows")
    return small


@dataclass(frozen=True)
class BillInputs:
    """What an account's bill reads from a server's state, taken at one moment: its
    buckets in the emulator's S3 (their usage is billed) and its cost categories and cost
    allocation tags. A bill built from them where that state is not (a shard's process)
    is the bill the server would build."""

    buckets: tuple[Any, ...]
    definitions: definitions.Definitions


def inputs_of(runtime: Any, account_id: str) -> BillInputs:
    from bcm_local.billing.usage.emulator_s3 import bucket_stats

    return BillInputs(bucket_stats(runtime, account_id), definitions.of(runtime.store, account_id))


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
    shard: LineShard | None = None,
    inputs: BillInputs | None = None,
) -> model.Dataset:
    """The account's bill as of `now` in `con`; `shard`: only that part of its lines
    (sharded emission, delivery/shards/); `inputs`: the server state it reads, taken
    earlier (without a runtime)."""
    given = _build_arguments(config, account_id, now, granularity, backfill_months, scenario)
    buckets = inputs.buckets if inputs is not None else None
    data = model.build(con, **given, runtime=runtime, shard=shard, buckets=buckets)
    data.tag_keys = categories.tag_keys(data)
    # the account's cost categories and cost allocation tags
    if inputs is not None:
        categories.apply(data, inputs.definitions)
    elif runtime is not None:
        categories.apply(data, definitions.of(runtime.store, account_id))
    return data


def _build_arguments(
    config: Any,
    account_id: str,
    now: datetime,
    granularity: str,
    backfill_months: int | None,
    scenario: Scenario | None,
) -> dict[str, Any]:
    backfill = config.billing_backfill_months if backfill_months is None else backfill_months
    return {
        "account_id": account_id,
        "now": now,
        "scenario": scenario or scenario_of(str(config.billing_scenario)),
        "seed": int(config.billing_seed),
        "enumerators": enumerators(),
        "granularity": granularity,
        "backfill_months": int(backfill),
        "scale": max(1, int(config.billing_scale)),
    }


def enumerate_ahead(
    config: Any,
    account_id: str,
    now: datetime,
    granularity: str,
    *,
    backfill_months: int | None = None,
    scenario: Scenario | None = None,
    inputs: BillInputs | None = None,
) -> None:
    """Do the Python part of `open_dataset`'s build now, in this process (no runtime):
    processes forked from it then build that bill without doing it again."""
    given = _build_arguments(config, account_id, now, granularity, backfill_months, scenario)
    model.enumerated(**given, runtime=None, buckets=inputs.buckets if inputs else None)
