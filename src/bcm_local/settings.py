"""Every setting in one table: environment variable, CLI flag, default, meaning.

The seed's `FLOCI_SERVICES_*` names keep their documented spelling; every other
setting is `BCM_LOCAL_*`. The CLI flag of a setting is its name without the prefix,
lower-cased, with dashes (`BCM_LOCAL_DATA_DIR` → `--data-dir`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bcm_local import clock


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    help: str
    choices: tuple[str, ...] = ()
    kind: Callable[[str], Any] = str

    @property
    def flag(self) -> str:
        name = self.env.removeprefix("BCM_LOCAL_").removeprefix("FLOCI_SERVICES_")
        return "--" + name.lower().replace("_", "-")

    @property
    def attr(self) -> str:
        return self.flag[2:].replace("-", "_")


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _quotas(value: str) -> dict[str, int]:
    """`TABLE=N,TABLE=N`: per-account export limits by table (a table not listed has none)."""
    limits: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        table, sep, count = item.partition("=")
        if not sep or not table.strip() or not count.strip().isdigit():
            raise ValueError(f"not TABLE=COUNT: {item!r}")
        limits[table.strip()] = int(count)
    return limits


def _credentials(value: str) -> dict[str, str]:
    """`AKID:SECRET,AKID2:SECRET2`: the access keys strict mode accepts, with their secrets."""
    found: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        key, sep, secret = item.partition(":")
        if not sep or not key.strip() or not secret:
            raise ValueError("not ACCESS_KEY:SECRET (the value is not shown)")
        found[key.strip()] = secret
    return found


_EMIT = ("synchronous", "daily", "off")

SETTINGS: tuple[Setting, ...] = (
    Setting("BCM_LOCAL_HOST", "127.0.0.1", "Address to bind."),
    Setting("BCM_LOCAL_PORT", "4566", "Port to listen on.", kind=int),
    Setting(
        "BCM_LOCAL_DATA_DIR",
        "",
        "Directory for persistent state (SQLite) and S3 objects; empty keeps everything "
        "in memory and a temporary directory removed at exit.",
    ),
    Setting(
        "BCM_LOCAL_LOG_LEVEL",
        "info",
        "Log level.",
        choices=("critical", "error", "warning", "info", "debug"),
    ),
    Setting(
        "BCM_LOCAL_MAX_BODY_MB",
        "5120",
        "Largest request body accepted, in MiB (S3 PutObject's own limit is 5 GiB).",
        kind=int,
    ),
    Setting(
        "BCM_LOCAL_HTTP_SERVER",
        "builtin",
        "HTTP server: the built-in uvloop+httptools one (fast start-up) or uvicorn.",
        choices=("builtin", "uvicorn"),
    ),
    Setting(
        "BCM_LOCAL_NOW",
        "",
        "The emulator's clock: an ISO 8601 date (2026-11-20, midnight UTC) or UTC timestamp "
        "(2026-11-20T12:00:00Z). It starts there and ticks at real speed: the current billing "
        "period, how far into it the bill runs, timestamps and S3 LastModified follow it. "
        "Empty: the machine's clock.",
        kind=clock.parse,
    ),
    Setting(
        "BCM_LOCAL_DEFAULT_REGION",
        "us-east-1",
        "Region used when a request carries no SigV4 credential scope.",
    ),
    Setting(
        "FLOCI_SERVICES_BCM_DATA_EXPORTS_ENABLED",
        "true",
        "Enable or disable the bcm-data-exports service.",
        kind=_bool,
    ),
    Setting(
        "FLOCI_SERVICES_BCM_DATA_EXPORTS_EMIT_MODE",
        "synchronous",
        "bcm-data-exports run mode: emit on every CreateExport/UpdateExport, every 24h, or never.",
        choices=_EMIT,
    ),
    Setting("FLOCI_SERVICES_CUR_ENABLED", "true", "Enable or disable the cur service.", kind=_bool),
    Setting(
        "FLOCI_SERVICES_CUR_EMIT_MODE",
        "synchronous",
        "cur run mode: emit on every Put/ModifyReportDefinition, every 24h, or never.",
        choices=_EMIT,
    ),
    Setting(
        "BCM_LOCAL_CUR_REPORT_LIMIT",
        "5",
        "Legacy CUR report definitions allowed per account (AWS documents 5, and 10 elsewhere); "
        "one more is refused with ReportLimitReachedException.",
        kind=int,
    ),
    Setting(
        "BCM_LOCAL_STRICT_AUTH",
        "false",
        "Verify every request's SigV4 signature (Authorization header or presigned URL, and "
        "each chunk of a signed aws-chunked upload) against BCM_LOCAL_CREDENTIALS and refuse "
        "unsigned or wrongly signed requests with AWS's errors. Off: any credentials are "
        "accepted, like other emulators.",
        kind=_bool,
    ),
    Setting(
        "BCM_LOCAL_CREDENTIALS",
        "test:test",
        "Access keys and secrets accepted in strict mode, as ACCESS_KEY:SECRET pairs separated "
        "by commas (a 12-digit access key is also the account id).",
        kind=_credentials,
    ),
    Setting("BCM_LOCAL_S3_ENABLED", "true", "Enable or disable the built-in S3.", kind=_bool),
    Setting(
        "BCM_LOCAL_DAILY_INTERVAL_SECONDS",
        "86400",
        "Interval of the `daily` emit mode's scheduler (shorten it in tests).",
        kind=float,
    ),
    Setting(
        "BCM_LOCAL_EXPORT_ARN_STYLE",
        "floci",
        "`floci`: export ARNs end in export/<Name> (the seed's form); `aws`: export/<Name>-<uuid> "
        "like real AWS, to check that code treats ARNs as opaque.",
        choices=("floci", "aws"),
    ),
    Setting(
        "BCM_LOCAL_DATA_EXPORTS_QUOTAS",
        "COST_AND_USAGE_REPORT=5,FOCUS_1_0_AWS=2,FOCUS_1_2_AWS=2,"
        "COST_OPTIMIZATION_RECOMMENDATIONS=2,COST_AND_USAGE_DASHBOARD=2,CARBON_EMISSIONS=2",
        "Data Exports allowed per account and table (AWS's quotas), as TABLE=COUNT pairs; one "
        "more is refused with ServiceQuotaExceededException. Empty: no limits.",
        kind=_quotas,
    ),
    # -- AWS Billing: billing views (bcm_local.services.billing) --
    Setting(
        "BCM_LOCAL_BILLING_ENABLED",
        "true",
        "Enable or disable AWS Billing (billing views).",
        kind=_bool,
    ),
    # -- AWS Price List (bcm_local.services.pricing, bcm_local.billing.prices) --
    Setting(
        "BCM_LOCAL_PRICING_ENABLED",
        "true",
        "Enable or disable the AWS Price List API (pricing): the products and rates the bill "
        "charges, and their price list files.",
        kind=_bool,
    ),
    # -- Cost Explorer (bcm_local.services.ce, bcm_local.billing.queries) --
    Setting("BCM_LOCAL_CE_ENABLED", "true", "Enable or disable Cost Explorer (ce).", kind=_bool),
    Setting(
        "BCM_LOCAL_CE_HOURLY",
        "true",
        "Hourly Cost Explorer data (Granularity HOURLY, the last 14 days), which AWS makes an "
        "opt-in; false answers HOURLY requests with a ValidationException.",
        kind=_bool,
    ),
    Setting(
        "BCM_LOCAL_CE_PAGE_SIZE",
        "5000",
        "Cost Explorer results per page: groups (GetCostAndUsage) or values (GetDimensionValues, "
        "GetTags); more come with a NextPageToken.",
        kind=int,
    ),
    Setting(
        "BCM_LOCAL_CE_REQUESTS_PER_SECOND",
        "0",
        "Cost Explorer request rate per account above which calls fail with "
        "LimitExceededException, like AWS's throttling; 0: no limit.",
        kind=float,
    ),
    # -- billing data and export files (bcm_local.billing, bcm_local.delivery) --
    Setting(
        "BCM_LOCAL_STRICT_SQL",
        "false",
        'Reject `SELECT *` in export queries with "Invalid QueryStatement", as AWS does.',
        kind=_bool,
    ),
    Setting(
        "BCM_LOCAL_EXPORT_LAYOUT",
        "floci",
        "Where export files go: `floci` = <prefix>/<name>/<executionId>.parquet (the seed's); "
        "`aws` = <prefix>/<name>/data/BILLING_PERIOD=YYYY-MM/<name>-00001.snappy.parquet "
        "plus a manifest under metadata/, like AWS.",
        choices=("floci", "aws"),
    ),
    Setting(
        "BCM_LOCAL_EXPORT_CHUNK_MB",
        "256",
        "`aws` layout: data files are split into numbered chunks of about this many MiB.",
        kind=float,
    ),
    Setting(
        "BCM_LOCAL_EXPORT_WORKERS",
        "1",
        "Processes that write a Data Exports (`aws` layout) or legacy CUR delivery. 1 writes "
        "it in the server's process; above 1 each billing period (and each of "
        "BCM_LOCAL_EXPORT_SHARDS groups) is a shard written by a pool of that many processes "
        "(docs/sharded-emission.md). The files' rows do not change.",
        kind=int,
    ),
    Setting(
        "BCM_LOCAL_EXPORT_SHARDS",
        "1",
        "With BCM_LOCAL_EXPORT_WORKERS above 1: shards per billing period, by resource where "
        "the table has a row per resource, else by account (CUR 2.0, FOCUS, legacy CUR).",
        kind=int,
    ),
    Setting(
        "BCM_LOCAL_BILLING_SCENARIO",
        "",
        "YAML or JSON file describing the organisation whose bill is synthesised; empty: the "
        "built-in scenario.",
    ),
    Setting(
        "BCM_LOCAL_BILLING_SEED",
        "42",
        "Seed of the synthetic bill: the same seed gives byte-identical files.",
        kind=int,
    ),
    Setting(
        "BCM_LOCAL_BILLING_BACKFILL_MONTHS",
        "0",
        "Closed months delivered before the current one (0: the current month only).",
        kind=int,
    ),
    Setting(
        "BCM_LOCAL_BILLING_SCALE",
        "1",
        "Multiplies the scenario's fleet (resources get fresh ids): rows grow linearly.",
        kind=int,
    ),
    # -- delivery to an external S3-compatible endpoint (bcm_local.delivery.sink) --
    Setting(
        "BCM_LOCAL_DELIVERY_S3_ENDPOINT",
        "",
        "S3-compatible endpoint URL that Data Exports and legacy CUR deliver to (MinIO, a real "
        "bucket's regional endpoint, ...); empty: the built-in S3.",
    ),
    Setting(
        "BCM_LOCAL_DELIVERY_S3_ACCESS_KEY_ID",
        "",
        "Access key for the external delivery endpoint; empty: botocore's default credential "
        "chain.",
    ),
    Setting(
        "BCM_LOCAL_DELIVERY_S3_SECRET_ACCESS_KEY",
        "",
        "Secret key for the external delivery endpoint.",
    ),
    Setting(
        "BCM_LOCAL_DELIVERY_S3_REGION",
        "us-east-1",
        "Region used to sign requests to the external delivery endpoint.",
    ),
    Setting(
        "BCM_LOCAL_DELIVERY_S3_PART_MB",
        "16",
        "Files larger than this go to the external endpoint as multipart uploads with parts of "
        "this many MiB (at least 5).",
        kind=float,
    ),
)

BY_ENV: dict[str, Setting] = {s.env: s for s in SETTINGS}


@dataclass(frozen=True)
class Config:
    """Resolved settings; attribute names are the flags' names with underscores."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def with_overrides(self, **overrides: Any) -> Config:
        return Config({**self.values, **overrides})


def _convert(setting: Setting, raw: str) -> Any:
    if setting.choices and raw.lower() not in setting.choices:
        raise ValueError(f"{setting.env}={raw!r} is not one of: {', '.join(setting.choices)}")
    try:
        return setting.kind(raw.lower() if setting.choices else raw)
    except ValueError as err:
        raise ValueError(f"{setting.env}: {err}") from None


def load(env: Mapping[str, str] | None = None, flags: Mapping[str, Any] | None = None) -> Config:
    """Defaults, overridden by the environment, overridden by CLI flags."""
    env = os.environ if env is None else env
    flags = flags or {}
    values: dict[str, Any] = {}
    for s in SETTINGS:
        raw = flags.get(s.attr)
        if raw is None:
            raw = env.get(s.env, s.default)
        values[s.attr] = _convert(s, str(raw))
    return Config(values)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for s in SETTINGS:
        extra = f" (env {s.env}, default {s.default!r})"
        parser.add_argument(s.flag, dest=s.attr, default=None, help=s.help + extra)


def markdown_table() -> str:
    rows = ["| Environment variable | CLI flag | Default | Description |", "|---|---|---|---|"]
    for s in SETTINGS:
        choices = f" One of: {', '.join(f'`{c}`' for c in s.choices)}." if s.choices else ""
        default = f"`{s.default}`" if s.default else "(empty)"
        text = (s.help + choices).replace("<", "&lt;").replace(">", "&gt;")
        rows.append(f"| `{s.env}` | `{s.flag}` | {default} | {text} |")
    return "\n".join(rows)
