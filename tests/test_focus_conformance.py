"""FOCUS conformance of what the emulator delivers, rule by rule (tests/focus_rules.py).

A real server (bcm_local.testing.ServerProcess) delivers FOCUS_1_2_AWS and FOCUS_1_0_AWS as
Parquet for the built-in scenario and for tests/scenarios/all_charges.yaml (every charge kind
the model has), each with one closed and one open month; the files are read back from the
emulated S3 with boto3 and every rule of the table's FOCUS version is checked on them:

- a rule without a deviation holds on every row (and for the dataset);
- a rule AWS's own export breaks (DEVIATIONS_*) breaks on exactly the rows AWS's
  documented gap covers, and in the all-charges scenario those rows exist; a Key-Value
  column is of exactly the type AWS delivers;
- an open defect of ours (OPEN_DEFECTS_*) is asserted the same way, so it cannot grow
  unnoticed, and fixing it fails here until the rules file says so.

The FinOps Foundation's focus-validator is not needed (docs/focus-conformance.md says how
to run it by hand).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bcm_local.testing import ServerProcess, export_body
from tests.conftest import TEST_NOW, make_client
from tests.focus_rules import (
    ALLOWED,
    DEVIATIONS_1_0,
    DEVIATIONS_1_2,
    FOCUS_1_0,
    FOCUS_1_2,
    OPEN_DEFECTS_1_0,
    OPEN_DEFECTS_1_2,
    SUBCATEGORY_PARENT,
    Deviation,
    Rule,
)

SCENARIOS = {
    "default": "",
    "all_charges": str(Path(__file__).with_name("scenarios") / "all_charges.yaml"),
}
RULES: dict[str, tuple[list[Rule], dict[str, Deviation], dict[str, Deviation]]] = {
    "FOCUS_1_2_AWS": (FOCUS_1_2, DEVIATIONS_1_2, OPEN_DEFECTS_1_2),
    "FOCUS_1_0_AWS": (FOCUS_1_0, DEVIATIONS_1_0, OPEN_DEFECTS_1_0),
}
CUR = "COST_AND_USAGE_REPORT"
CUR_PROPERTIES = {"INCLUDE_RESOURCES": "TRUE", "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "TRUE"}
BUCKET = "focus-conformance"
NOW = datetime.fromisoformat(TEST_NOW.replace("Z", "+00:00")).replace(tzinfo=None)


class Delivered:
    """One delivered FOCUS file in DuckDB (view `f`, with its row number `__row`)."""

    def __init__(self, table: pa.Table) -> None:
        self.schema = table.schema
        self.rows = table.num_rows
        self.con = duckdb.connect()
        numbered = table.append_column("__row", pa.array(range(table.num_rows), pa.int64()))
        self.con.register("f", numbered)
        parents = pa.table(
            {"sub": list(SUBCATEGORY_PARENT), "cat": list(SUBCATEGORY_PARENT.values())}
        )
        self.con.register("subcategory_parent", parents)

    def rows_where(self, condition: str) -> set[int]:
        sql = f"SELECT __row FROM f WHERE coalesce(({condition}), FALSE)"
        return {r for (r,) in self.con.execute(sql).fetchall()}

    def count(self, sql: str) -> int:
        found = self.con.execute(sql).fetchone()
        assert found is not None
        return int(found[0])


def _deliver(scenario: str) -> dict[str, Delivered]:
    env = {"BCM_LOCAL_BILLING_SCENARIO": scenario, "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1"}
    found: dict[str, Delivered] = {}
    with ServerProcess(env=env) as proc:
        s3 = make_client(proc.endpoint, "s3")
        s3.create_bucket(Bucket=BUCKET)
        exports = make_client(proc.endpoint, "bcm-data-exports")
        for table in (*RULES, CUR):
            name = table.lower().replace("_", "-")
            configs = {CUR: CUR_PROPERTIES} if table == CUR else None
            query = f"SELECT * FROM {table}"
            body = export_body(name, query, bucket=BUCKET, prefix="focus", tables=configs)
            exports.create_export(Export=body)
            listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"focus/{name}/")
            keys = [o["Key"] for o in listing.get("Contents", [])]
            assert len(keys) == 1, keys
            raw = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
            found[table] = Delivered(pq.read_table(io.BytesIO(raw)))
    return found


@pytest.fixture(scope="module", params=list(SCENARIOS))
def delivered(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Delivered]]]:
    files = _deliver(SCENARIOS[request.param])
    yield request.param, files
    for file in files.values():
        file.con.close()


def _aws_type(field: pa.Field) -> str:
    t = field.type
    if pa.types.is_map(t):
        return f"map<{t.key_type},{t.item_type}>"
    return str(t)


def _type_ok(field: pa.Field, kind: str) -> bool:
    t = field.type
    if kind == "string":
        return bool(pa.types.is_string(t) or pa.types.is_large_string(t))
    if kind == "decimal":
        return bool(pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_integer(t))
    if kind == "datetime":
        return bool(pa.types.is_timestamp(t))
    raise AssertionError(f"unknown type {kind}")


def _string_columns(file: Delivered) -> list[str]:
    return [f.name for f in file.schema if _type_ok(f, "string") and f.name != "__row"]


def _quoted(values: Any) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in sorted(values))


def _conforming(file: Delivered, column: str, check: str, arg: str) -> str:
    """The SQL condition a conforming row of `f` satisfies (row-level form of the rule)."""
    arg = arg.replace("{now}", f"TIMESTAMP '{NOW.isoformat(sep=' ')}'")
    col = f'"{column}"'
    if check == "not_null":
        return f"{col} IS NOT NULL"
    if check == "null_when_null":
        return f'"{arg}" IS NOT NULL OR {col} IS NULL'
    if check == "not_null_when_not_null":
        return f'"{arg}" IS NULL OR {col} IS NOT NULL'
    if check == "null_when":
        return f"NOT coalesce(({arg}), FALSE) OR {col} IS NULL"
    if check == "not_null_when":
        return f"NOT coalesce(({arg}), FALSE) OR {col} IS NOT NULL"
    if check == "one_of":
        return f"{col} IS NULL OR {col}::VARCHAR IN ({_quoted(ALLOWED[arg])})"
    if check == "matches":
        return f"{col} IS NULL OR regexp_full_match({col}, '{arg}')"
    if check == "non_negative":
        return f"{col} IS NULL OR {col} >= 0"
    if check == "holds":
        return arg
    if check == "one_per":
        groups = (
            f'SELECT "{arg}" FROM f WHERE "{arg}" IS NOT NULL '
            f'GROUP BY "{arg}" HAVING count(DISTINCT {col}) > 1'
        )
        return f'"{arg}" IS NULL OR "{arg}" NOT IN ({groups})'
    if check == "parent":
        return (
            f"{col} IS NULL OR EXISTS (SELECT 1 FROM subcategory_parent p "
            f'WHERE p.sub = f.{col} AND p.cat = f."{arg}")'
        )
    if check == "key_value":
        return f"{col} IS NULL OR json_type({col}::JSON) = 'OBJECT'"
    if check == "no_empty_strings":
        return " AND ".join(f"trim(coalesce(\"{c}\", 'x')) <> ''" for c in _string_columns(file))
    raise AssertionError(f"unknown check {check}")


def _cases() -> list[Any]:
    cases = []
    for table, (rules, deviations, defects) in RULES.items():
        for rule in rules:
            cases.append(pytest.param(table, rule, id=f"{table}-{rule[0]}"))
        # every deviation names a rule of its table
        assert set(deviations) | set(defects) <= {r[0] for r in rules}, table
    return cases


@pytest.mark.parametrize(("table", "rule"), _cases())
def test_rule(delivered: tuple[str, dict[str, Delivered]], table: str, rule: Rule) -> None:
    scenario, files = delivered
    file = files[table]
    rule_id, column, check, arg = rule
    _rules, deviations, defects = RULES[table]
    deviation = deviations.get(rule_id) or defects.get(rule_id)
    assert file.rows > 0
    if column != "*":
        assert column in file.schema.names, f"{rule_id}: {table} has no column {column}"
    if check in ("type", "key_value"):
        field = file.schema.field(column)
        if deviation is not None and deviation.delivered_type:
            assert _aws_type(field) == deviation.delivered_type, (rule_id, deviation.source)
            return
        wanted = "string" if check == "key_value" else arg
        assert _type_ok(field, wanted), f"{rule_id}: {column} is {field.type}, not {wanted}"
        if check == "type":
            return
    violating = file.rows_where(f"NOT coalesce(({_conforming(file, column, check, arg)}), FALSE)")
    if deviation is None:
        sample = sorted(violating)[:5]
        assert not violating, f"{rule_id} fails on {len(violating)} rows of {table}, e.g. {sample}"
        return
    expected = file.rows_where(deviation.rows)
    assert violating == expected, (
        f"{rule_id}: {len(violating)} rows break it, {len(expected)} rows are the deviation "
        f"({deviation.rows}); only violating: {sorted(violating - expected)[:5]}, "
        f"only deviation: {sorted(expected - violating)[:5]}"
    )
    if scenario == "all_charges":
        assert expected, f"{rule_id}: the deviation ({deviation.rows}) does not occur"


def test_every_charge_kind_is_delivered(delivered: tuple[str, dict[str, Delivered]]) -> None:
    """The all-charges scenario exercises what the rules are about: usage covered by a
    Savings Plan and a reservation, commitment purchases (recurring and upfront), used and
    unused capacity reservations, credits, a refund (correction), tax and support, in a
    closed (invoiced) and the open month."""
    scenario, files = delivered
    if scenario != "all_charges":
        pytest.skip("the default scenario has no upfront purchase in the delivered months")
    split = "SELECT count(*) FROM f WHERE split_line_item_parent_resource_id IS NOT NULL"
    assert files[CUR].count(split) > 0, "no split cost allocation records"
    for table in RULES:
        file = files[table]
        kinds = {
            "SP usage": "CommitmentDiscountCategory = 'Spend' AND ChargeCategory = 'Usage'",
            "RI usage": "CommitmentDiscountCategory = 'Usage' AND ChargeCategory = 'Usage'",
            "recurring commitment": "ChargeFrequency = 'Recurring' AND CommitmentDiscountId "
            "IS NOT NULL",
            "upfront commitment": "ChargeFrequency = 'One-Time' AND CommitmentDiscountId "
            "IS NOT NULL AND ChargeCategory = 'Purchase'",
            "credit": "ChargeCategory = 'Credit' AND ChargeClass IS NULL",
            "refund": "ChargeCategory = 'Credit' AND ChargeClass = 'Correction'",
            "tax": "ChargeCategory = 'Tax'",
            "support": "x_ServiceCode = 'AWSSupportBusiness'",
            "EDP discount": "cardinality(x_Discounts) > 0",
            "invoiced month": "BillingPeriodEnd <= TIMESTAMP '"
            + NOW.replace(day=1, hour=0).isoformat(sep=" ")
            + "'",
        }
        if table == "FOCUS_1_2_AWS":
            kinds["used capacity"] = "CapacityReservationStatus = 'Used'"
            kinds["unused capacity"] = "CapacityReservationStatus = 'Unused'"
        for kind, condition in kinds.items():
            assert file.count(f"SELECT count(*) FROM f WHERE {condition}") > 0, (table, kind)


def test_focus_and_cur_agree(delivered: tuple[str, dict[str, Delivered]]) -> None:
    """The fixes live in the usage model, so the tables stay one bill: per billing period
    FOCUS BilledCost totals CUR 2.0's net unblended cost, and every SKU of FOCUS is a CUR
    product_sku (the emulator's own S3 requests included: they have a SKU everywhere). The
    delivery bucket's own lines are left out of the totals: each file delivered before the
    next one adds to the bucket's storage and requests. So is usage a Savings Plan covers:
    FOCUS bills it at 0, while CUR 2.0 nets it against its SavingsPlanNegation, and with an
    EDP discount the model discounts the covered usage but not its negation (a CUR 2.0
    question outside FOCUS, reported with this suite)."""
    _scenario, files = delivered
    cur = files[CUR].con
    cur_skus = {s for (s,) in cur.execute("SELECT DISTINCT product_sku FROM f").fetchall()}
    own = (
        f"coalesce(line_item_resource_id, '') <> '{BUCKET}' AND line_item_line_item_type "
        "NOT IN ('SavingsPlanCoveredUsage', 'SavingsPlanNegation')"
    )
    cur_totals = dict(
        cur.execute(
            "SELECT bill_billing_period_start_date, sum(line_item_net_unblended_cost) "
            f"FROM f WHERE {own} GROUP BY 1"
        ).fetchall()
    )
    s3 = (
        "SELECT count(*) FROM f WHERE line_item_product_code = 'AmazonS3' "
        "AND line_item_line_item_type = 'Usage' AND product_sku IS NULL"
    )
    assert files[CUR].count(s3) == 0
    for table in RULES:
        con = files[table].con
        skus = {s for (s,) in con.execute("SELECT DISTINCT SkuId FROM f").fetchall()}
        assert skus - {None} <= cur_skus, table
        own_rows = (
            f"coalesce(ResourceId, '') <> '{BUCKET}' AND NOT (ChargeCategory = 'Usage' "
            "AND CommitmentDiscountCategory IS NOT DISTINCT FROM 'Spend')"
        )
        totals = dict(
            con.execute(
                f"SELECT BillingPeriodStart, sum(BilledCost) FROM f WHERE {own_rows} GROUP BY 1"
            ).fetchall()
        )
        assert totals.keys() == cur_totals.keys(), table
        for period, total in totals.items():
            assert abs(total - cur_totals[period]) < 1e-5, (table, period)
        bucket_rows = f"SELECT count(*) FROM f WHERE ResourceId = '{BUCKET}' AND SkuId IS NULL"
        assert files[table].count(bucket_rows) == 0, table
