"""Shared by the tests/test_ce_*.py modules: a server with a few months of bill, a CUR 2.0
export of it read back from the emulated S3, and Cost Explorer's figures recomputed from
that file in plain Python (the issue's formulas, an Expression evaluator written from
AWS's documentation), so the API is checked against the delivered file, not itself.

The emulator's own S3 usage moves with every request (its buckets are billed), so the
comparisons leave out the one line family that changes between the export and a later
query: the bucket lines, tagged created-by=bcm-local.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow.parquet as pq

from bcm_local.billing.expressions.dimensions import DIMENSIONS, FACT_DIMENSIONS
from bcm_local.testing import ServerProcess, export_body
from tests.conftest import make_client

ACCOUNT = "123456789012"
BUCKET = "ce-exports"
NOW = "2026-05-27T12:00:00Z"
ENV = {"BCM_LOCAL_BILLING_BACKFILL_MONTHS": "2", "BCM_LOCAL_NOW": NOW}
# the bucket lines (see above), left out of both sides
NOT_BUCKETS: dict[str, Any] = {"Not": {"Tags": {"Key": "created-by", "Values": ["bcm-local"]}}}

COST = ("AmortizedCost", "BlendedCost", "NetAmortizedCost", "NetUnblendedCost", "UnblendedCost")
USAGE = ("NormalizedUsageAmount", "UsageQuantity")
METRICS = COST + USAGE


def _amortized(r: dict[str, Any], net: bool) -> float:
    """AWS's amortized cost of one CUR 2.0 row (issue 18), `net`: on the net_ columns."""
    n = "net_" if net else ""

    def v(name: str) -> float:
        return float(r[name] or 0.0)

    kind = r["line_item_line_item_type"]
    if kind == "SavingsPlanCoveredUsage":
        return v(f"savings_plan_{n}savings_plan_effective_cost")
    if kind == "SavingsPlanRecurringFee":
        unused = v("savings_plan_total_commitment_to_date") - v("savings_plan_used_commitment")
        gross = v("line_item_unblended_cost")
        return unused * (v("line_item_net_unblended_cost") / gross if net and gross else 1.0)
    if kind in ("SavingsPlanNegation", "SavingsPlanUpfrontFee"):
        return 0.0
    if kind == "DiscountedUsage":
        return v(f"reservation_{n}effective_cost")
    if kind == "RIFee":
        return v(f"reservation_{n}unused_amortized_upfront_fee_for_billing_period") + v(
            f"reservation_{n}unused_recurring_fee"
        )
    if kind == "Fee" and r["reservation_reservation_a_r_n"]:
        return 0.0
    return v(f"line_item_{n}unblended_cost")


def metrics_of(r: dict[str, Any]) -> dict[str, float]:
    def v(name: str) -> float:
        return float(r[name] or 0.0)

    return {
        "UnblendedCost": v("line_item_unblended_cost"),
        "BlendedCost": v("line_item_blended_cost"),
        "NetUnblendedCost": v("line_item_net_unblended_cost"),
        "UsageQuantity": v("line_item_usage_amount"),
        "NormalizedUsageAmount": v("line_item_normalized_usage_amount"),
        "AmortizedCost": _amortized(r, False),
        "NetAmortizedCost": _amortized(r, True),
    }


@dataclass
class Row:
    t: datetime
    dims: dict[str, str]
    tags: dict[str, str]
    categories: dict[str, str]
    unit: str
    metrics: dict[str, float]


def rows_of(table: Any) -> list[Row]:
    """The file's rows with CE's dimension values (the mapping is data: dimensions.py and
    its .tsv files, applied to the file's columns) and the metrics by the formulas above."""
    con = duckdb.connect()
    con.register("cur", table)
    dims = ", ".join(f'{DIMENSIONS[n].sql} AS "{n}"' for n in FACT_DIMENSIONS)
    sql = f"SELECT *, {dims}, {DIMENSIONS['RESOURCE_ID'].sql} AS resource_id FROM cur"
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    out = []
    for values in result.fetchall():
        r = dict(zip(names, values, strict=True))
        tags = {
            k.removeprefix("resourceTags/").removeprefix("user:"): v
            for k, v in (r["tags"] or {}).items()
            if k.startswith("resourceTags/")
        }
        start = r["line_item_usage_start_date"]
        start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
        out.append(
            Row(
                start,
                {n: r[n] for n in (*FACT_DIMENSIONS, "resource_id")},
                tags,
                dict(r["cost_category"] or {}),
                r["pricing_unit"] or "",
                metrics_of(r),
            )
        )
    return out


# -- Expression, from AWS's API reference ------------------------------------------------


def _leaf_match(value: str | None, leaf: dict[str, Any], keyed: bool) -> bool:
    options = leaf.get("MatchOptions") or ["EQUALS"]
    values = list(leaf.get("Values") or [])
    if "ABSENT" in options:
        return value is None or (not keyed and value == "")
    if keyed and not values:
        return value is not None
    if keyed and value is None:
        return "" in values
    assert value is not None
    if keyed:
        values = [x for x in values if x != ""]
    insensitive = "CASE_INSENSITIVE" in options
    have = value.lower() if insensitive else value
    for want in values:
        want = want.lower() if insensitive else want
        if "STARTS_WITH" in options and have.startswith(want):
            return True
        if "ENDS_WITH" in options and have.endswith(want):
            return True
        if "CONTAINS" in options and want in have:
            return True
        if "GREATER_THAN_OR_EQUAL" in options and have >= want:
            return True
        plain = not {"STARTS_WITH", "ENDS_WITH", "CONTAINS", "GREATER_THAN_OR_EQUAL"} & set(options)
        if plain and have == want:
            return True
    return False


def matches(row: Row, expr: dict[str, Any] | None) -> bool:
    if expr is None:
        return True
    if "And" in expr:
        return all(matches(row, e) for e in expr["And"])
    if "Or" in expr:
        return any(matches(row, e) for e in expr["Or"])
    if "Not" in expr:
        return not matches(row, expr["Not"])
    if "Dimensions" in expr:
        leaf = expr["Dimensions"]
        key = "resource_id" if leaf["Key"] == "RESOURCE_ID" else leaf["Key"]
        return _leaf_match(row.dims[key], leaf, keyed=False)
    if "Tags" in expr:
        return _leaf_match(row.tags.get(expr["Tags"]["Key"]), expr["Tags"], keyed=True)
    leaf = expr["CostCategories"]
    return _leaf_match(row.categories.get(leaf["Key"]), leaf, keyed=True)


def group_label(row: Row, group: dict[str, str]) -> str:
    key = group["Key"]
    if group["Type"] == "DIMENSION":
        return row.dims["resource_id" if key == "RESOURCE_ID" else key]
    found = row.tags.get(key) if group["Type"] == "TAG" else row.categories.get(key)
    return f"{key}${found or ''}"


def bucket_start(moment: datetime, granularity: str) -> datetime:
    if granularity == "MONTHLY":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if granularity == "DAILY":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


def expected(
    rows: list[Row],
    start: datetime,
    end: datetime,
    granularity: str,
    expr: dict[str, Any] | None,
    groups: list[dict[str, str]],
) -> dict[tuple[datetime, tuple[str, ...]], dict[str, float]]:
    """{(bucket start, keys): metric sums} over the file's rows."""
    found: dict[tuple[datetime, tuple[str, ...]], dict[str, float]] = defaultdict(
        lambda: dict.fromkeys(METRICS, 0.0)
    )
    for row in rows:
        if not start <= row.t < end or not matches(row, expr):
            continue
        bucket = max(bucket_start(row.t, granularity), start)
        keys = tuple(group_label(row, g) for g in groups)
        sums = found[(bucket, keys)]
        for m, v in row.metrics.items():
            sums[m] += v
    return dict(found)


def answered(ce: Any, **request: Any) -> dict[tuple[datetime, tuple[str, ...]], dict[str, float]]:
    """The same, from GetCostAndUsage (every page)."""
    out: dict[tuple[datetime, tuple[str, ...]], dict[str, float]] = {}
    for entry in all_results(ce, **request):
        start = parse_time(entry["TimePeriod"]["Start"])
        if entry["Groups"]:
            for g in entry["Groups"]:
                key = (start, tuple(g["Keys"]))
                sums = out.setdefault(key, {})
                for m, v in g["Metrics"].items():
                    sums[m] = sums.get(m, 0.0) + float(v["Amount"])
        elif not request.get("GroupBy"):
            out[(start, ())] = {m: float(v["Amount"]) for m, v in entry["Total"].items()}
    return out


def all_results(ce: Any, resources: bool = False, **request: Any) -> Iterator[dict[str, Any]]:
    """Every page's ResultsByTime entries, in order (a period split over pages comes back
    once per page)."""
    call = ce.get_cost_and_usage_with_resources if resources else ce.get_cost_and_usage
    token = None
    while True:
        page = call(**request, **({"NextPageToken": token} if token else {}))
        yield from page["ResultsByTime"]
        token = page.get("NextPageToken")
        if not token:
            return


def parse_time(text: str) -> datetime:
    if "T" in text:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)


class Delivered:
    """A server, account ACCOUNT's CUR 2.0 export (daily, with resources) read back."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.ce = make_client(server.endpoint, "ce", ACCOUNT)
        s3 = make_client(server.endpoint, "s3", ACCOUNT)
        s3.create_bucket(Bucket=BUCKET)
        tables = {"COST_AND_USAGE_REPORT": {"INCLUDE_RESOURCES": "TRUE"}}
        body = export_body("ce-check", bucket=BUCKET, prefix="cur2", tables=tables)
        make_client(server.endpoint, "bcm-data-exports", ACCOUNT).create_export(Export=body)
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="cur2/").get("Contents", [])
        files = [o["Key"] for o in listed if o["Key"].endswith(".parquet")]
        assert files, listed
        parts = [
            pq.read_table(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()))
            for k in files
        ]
        self.table = parts[0] if len(parts) == 1 else __import__("pyarrow").concat_tables(parts)
        self.rows = rows_of(self.table)
        self.kept = [r for r in self.rows if r.tags.get("created-by") != "bcm-local"]
        self.first = min(r.t for r in self.rows).replace(day=1, hour=0)
        self.now = parse_time(NOW)

    def day(self, offset: int) -> datetime:
        return self.first + timedelta(days=offset)
