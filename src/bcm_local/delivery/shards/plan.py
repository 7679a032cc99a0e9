"""Planning a sharded delivery: which shards, each a picklable `Shard` that carries all
its inputs (the resolved settings, the scenario, the clock's instant, the export's SQL
and table properties, the destination), so it runs on any machine with bcm-local
installed and gives the same files there.

Shard keys (`by`):
- `period`: one shard per billing period (the default; `groups` must be 1);
- `account`: each period's usage accounts in `groups` groups (sorted by id, dealt in
  turn), so every row of an account, aggregated or not, is in one shard;
- `resource`: each period's lines in `groups` groups by line number (a line is one
  resource's usage series), for tables whose rows are a line at a time slot.
A key names the period and the group: `2026-05` or `2026-05/resource/3-of-8`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcm_local.billing import tables

if TYPE_CHECKING:
    from bcm_local.billing.bill import BillInputs
    from bcm_local.billing.scenario.definition import Scenario
    from bcm_local.billing.scenario.periods import Period

KEYS = ("period", "account", "resource")
# the CLI's names and Data Exports' own
FORMATS = {
    "parquet": "PARQUET",
    "csv": "TEXT_OR_CSV",
    "PARQUET": "PARQUET",
    "TEXT_OR_CSV": "TEXT_OR_CSV",
}
# tables whose rows are a line of the bill at a time slot (or sums within an account)
SHARDABLE = (tables.CUR2, tables.FOCUS_1_2, tables.FOCUS_1_0)


class ShardError(ValueError):
    """A plan, shard or result that cannot make a delivery; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ShardKey:
    period: str  # the billing period, YYYY-MM
    by: str = "period"
    group: int = 0  # 0-based
    groups: int = 1

    @property
    def part_group(self) -> int | None:
        """The group as the part names number it (1-based; None: a whole period)."""
        return self.group + 1 if self.groups > 1 else None

    def __str__(self) -> str:
        if self.groups == 1:
            return self.period
        return f"{self.period}/{self.by}/{self.group + 1}-of-{self.groups}"


@dataclass(frozen=True)
class Shard:
    """One shard of one delivery: everything `run_shard` needs, nothing it must look up."""

    key: ShardKey
    delivery: str  # the delivery's id: the manifests' executionId; shards of one plan share it
    period_index: int
    values: dict[str, Any]  # the resolved settings (bcm_local.settings.Config.values)
    scenario: Scenario
    account_id: str
    moment: datetime  # the emulator's clock when the plan was made
    statement: str
    table: str
    properties: dict[str, str]  # the table's properties, resolved
    fmt: str  # PARQUET or TEXT_OR_CSV
    name: str  # the export's name (file names, manifest)
    target: str  # a local folder, or s3://bucket (through BCM_LOCAL_DELIVERY_S3_*)
    prefix: str = ""  # the keys' prefix in the target
    bucket: str = ""  # what the manifest's URIs name (default: the target)
    folder: str = ""  # CREATE_NEW_REPORT's `<moment>-<executionId>` folder ("" overwrites)
    threads: int = 1  # DuckDB threads of the shard's process (does not change the files)
    arn: str | None = None  # the export's ARN, for the manifest (None: a local emission)
    # what a server's bill reads from its state, taken when the plan was made
    inputs: BillInputs | None = None
    view: dict[str, Any] | None = None  # a billing view's slice (None: the whole bill)
    backfill_months: int | None = None  # closed months before the open one (None: settings)
    # legacy CUR (delivery/shards/legacy.py): the report's definition, id, and the
    # period's assembly id
    report: dict[str, Any] | None = None
    report_id: str = ""
    assembly: str = ""


@dataclass(frozen=True)
class ShardResult:
    """What one shard wrote: its data keys in order, rows, bytes and output columns."""

    key: ShardKey
    delivery: str
    keys: list[str]
    rows: int
    bytes: int
    columns: list[tuple[str, str]]  # (name, AWS type), as the manifest lists them
    seconds: float
    peak_rss_mib: float = 0.0  # the peak memory of the process that ran it, so far
    # legacy CUR: the period's columns as the shard chose them (the manifest's, artifacts')
    legacy_columns: list[Any] | None = None


def shards(
    *,
    out: str | Path,
    table: str | None = None,
    query: str | None = None,
    properties: Mapping[str, str] | None = None,
    name: str = "export",
    fmt: str = "parquet",
    by: str = "period",
    groups: int = 1,
    account: str = "000000000000",
    settings: Mapping[str, str] | None = None,
    threads: int = 1,
) -> list[Shard]:
    """The shards of one delivery of `query` (default `SELECT * FROM <table>`) into `out`
    (a folder, or `s3://bucket/prefix`), in period order then group order.
    `settings`: BCM_LOCAL_* values over the environment's (scale, seed, scenario, clock,
    backfill months, chunk size, delivery endpoint). Raises ShardError."""
    from bcm_local import settings as known
    from bcm_local.billing.scenario.definition import ScenarioError
    from bcm_local.billing.scenario.files import scenario_of
    from bcm_local.billing.tables import TableError
    from bcm_local.clock import Clock
    from bcm_local.delivery.sql import QueryError, checked_query, parse

    if table is None and query is None:
        raise ShardError("give a table or a query")
    statement = query or f"SELECT * FROM {table}"
    try:
        config = known.load(env={**os.environ, **(settings or {})})
        strict = bool(config.strict_sql)
        read = parse(statement, strict).table
        given = dict(properties or {})
        parsed, _ = checked_query(statement, {read: given}, strict)
        props = tables.resolve_properties(read, given)
        scenario = scenario_of(str(config.billing_scenario))
    except (QueryError, TableError, ScenarioError, ValueError, OSError) as err:
        raise ShardError(str(getattr(err, "message", err))) from None
    if table is not None and read != table:
        raise ShardError(f"table {table} but the query reads {read}")
    if fmt not in FORMATS:
        raise ShardError(f"unknown format {fmt!r}: parquet or csv")
    _check_key(by, groups, read, props, parsed.limit)
    if by == "account":
        _check_accounts(groups, scenario, account)
    where = str(out)
    if where.startswith("s3://"):
        bucket, _, prefix = where.removeprefix("s3://").partition("/")
        target, prefix = f"s3://{bucket}", prefix.strip("/")
    else:
        target = bucket = str(Path(where).resolve())
        prefix = ""
    base = Shard(
        key=ShardKey(""),
        delivery=uuid.uuid4().hex,
        period_index=0,
        values=dict(config.values),
        scenario=scenario,
        account_id=account,
        moment=Clock(config.now).now(),
        statement=statement,
        table=read,
        properties=props,
        fmt=FORMATS[fmt],
        name=name,
        target=target,
        prefix=prefix,
        bucket=bucket,
        threads=max(1, int(threads)),
    )
    return split(base, by, groups)


def periods_of(shard: Shard) -> list[Period]:
    """The billing periods of the shard's bill."""
    from bcm_local.billing.scenario.periods import billing_periods

    backfill = shard.backfill_months
    if backfill is None:
        backfill = int(shard.values["billing_backfill_months"])
    seed = int(shard.values["billing_seed"])
    return billing_periods(shard.moment, backfill, shard.account_id, seed)


def period_of(shard: Shard, periods: list[Period]) -> Period:
    """The shard's billing period among the bill's `periods`."""
    found = next((p for p in periods if p.index == shard.period_index), None)
    if found is None or found.label != shard.key.period:
        raise ShardError(f"shard {shard.key}: the bill has no billing period {shard.key.period}")
    return found


def split(base: Shard, by: str, groups: int) -> list[Shard]:
    """`base`'s delivery as shards: each billing period of its bill, in `groups` groups."""
    periods = periods_of(base)
    return [
        replace(base, key=ShardKey(period.label, by, group, groups), period_index=period.index)
        for period in periods
        for group in range(groups)
    ]


def key_for(
    table: str, props: dict[str, str], limit: Any, groups: int, scenario: Scenario
) -> tuple[str, int]:
    """The shard key and count a server uses for `groups` shards a period of this export:
    resource groups where the table has a row per resource, account groups (never more
    than the bill has accounts) where it sums them, one shard a period where neither can
    be split (or `groups` is 1)."""
    if groups <= 1 or table not in SHARDABLE or limit is not None:
        return "period", 1
    if table != tables.CUR2 or props.get("INCLUDE_RESOURCES") == "TRUE":
        return "resource", groups
    return "account", min(groups, usage_accounts(scenario))


def usage_accounts(scenario: Scenario) -> int:
    """How many usage accounts the scenario's bill has: the payer and its members."""
    return 1 + len(scenario.accounts)


def _check_key(by: str, groups: int, table: str, props: dict[str, str], limit: Any) -> None:
    if by not in KEYS:
        raise ShardError(f"unknown shard key {by!r}: one of {', '.join(KEYS)}")
    if not isinstance(groups, int) or groups < 1:
        raise ShardError(f"the shard count must be a whole number of at least 1, not {groups!r}")
    if by == "period" and groups != 1:
        raise ShardError(
            f"shard key period makes one shard per billing period; {groups} shards a period "
            "need the key account or resource"
        )
    if groups == 1:
        return
    if table not in SHARDABLE:
        raise ShardError(
            f"{table} is sharded by period only; account and resource groups split "
            f"{', '.join(SHARDABLE)}"
        )
    if limit is not None:
        raise ShardError("a query with LIMIT is sharded by period only")
    if by == "resource" and table == tables.CUR2 and props.get("INCLUDE_RESOURCES") != "TRUE":
        raise ShardError(
            "shard key resource needs a row per resource: CUR 2.0 with INCLUDE_RESOURCES=FALSE "
            "sums the resources of a row (use the key account)"
        )


def _check_accounts(groups: int, scenario: Scenario, payer: str) -> None:
    accounts = usage_accounts(scenario)
    if groups > accounts:
        raise ShardError(
            f"{groups} account groups do not divide the work: the bill has {accounts} "
            "usage accounts"
        )
