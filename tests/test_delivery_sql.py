"""The export SQL: validation errors, and what projection, aliases, map access, WHERE and
LIMIT do to the delivered file."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from billing_support import expected_schema, run_parquet, runtime

from bcm_local.billing.tables import TableError
from bcm_local.delivery.exports import QueryError, check_query
from bcm_local.runtime import Runtime

INVALID = "Invalid QueryStatement"
NOT_SUBSET = "The columns in the query provided are not a subset of the table COST_AND_USAGE_REPORT"


@pytest.fixture(scope="module")
def rt() -> Iterator[Runtime]:
    with runtime() as value:
        yield value


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM COST_AND_USAGE_REPORT",
        "select line_item_unblended_cost from COST_AND_USAGE_REPORT",
        "SELECT product.from_location AS src, line_item_usage_amount FROM COST_AND_USAGE_REPORT "
        "WHERE line_item_line_item_type = 'Usage' AND (line_item_usage_amount > 1 OR "
        "line_item_product_code IN ('AmazonS3', 'AmazonEC2')) LIMIT 10",
        "SELECT COST_AND_USAGE_REPORT.line_item_product_code FROM COST_AND_USAGE_REPORT;",
        "SELECT resource_tags.user_team FROM COST_AND_USAGE_REPORT WHERE "
        "line_item_usage_start_date >= TIMESTAMP '2026-05-01 00:00:00' AND "
        "line_item_operation LIKE 'Run%' AND line_item_tax_type IS NULL",
    ],
)
def test_valid_queries_name_their_table(sql: str) -> None:
    assert check_query(sql, None, strict=False) == "COST_AND_USAGE_REPORT"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELEKT * FROM COST_AND_USAGE_REPORT", INVALID),
        ("SELECT a FROM COST_AND_USAGE_REPORT; SELECT b FROM COST_AND_USAGE_REPORT", INVALID),
        ("SELECT count(*) FROM COST_AND_USAGE_REPORT", INVALID),
        ("SELECT line_item_usage_amount * 2 FROM COST_AND_USAGE_REPORT", INVALID),
        ("SELECT bill_bill_type FROM COST_AND_USAGE_REPORT ORDER BY bill_bill_type", INVALID),
        ("SELECT bill_bill_type FROM COST_AND_USAGE_REPORT GROUP BY bill_bill_type", INVALID),
        ("SELECT DISTINCT bill_bill_type FROM COST_AND_USAGE_REPORT", INVALID),
        (
            "SELECT a.bill_bill_type FROM COST_AND_USAGE_REPORT a JOIN FOCUS_1_2_AWS b ON 1=1",
            INVALID,
        ),
        ("SELECT bill_bill_type, bill_bill_type FROM COST_AND_USAGE_REPORT", INVALID),
        ("SELECT bill_bill_type FROM (SELECT * FROM COST_AND_USAGE_REPORT)", INVALID),
        (
            "SELECT bill_bill_type FROM COST_AND_USAGE_REPORT WHERE lower(bill_bill_type) = 'x'",
            INVALID,
        ),
        ("SELECT bill_bill_type FROM COST_AND_USAGE_REPORT LIMIT -1", INVALID),
        ("SELECT " + "bill_bill_type, " * 3000 + "x FROM COST_AND_USAGE_REPORT", INVALID),
        ("SELECT nope FROM COST_AND_USAGE_REPORT", NOT_SUBSET),
        ("SELECT Bill_Bill_Type FROM COST_AND_USAGE_REPORT", NOT_SUBSET),
        ("SELECT line_item_resource_id FROM COST_AND_USAGE_REPORT", NOT_SUBSET),
        ("SELECT bill_bill_type FROM COST_AND_USAGE_REPORT WHERE BilledCost > 0", NOT_SUBSET),
        ("SELECT bill_bill_type.x FROM COST_AND_USAGE_REPORT", NOT_SUBSET),
        ("SELECT bill_bill_type FROM cost_and_usage_report", "cost_and_usage_report"),
        ("SELECT bill_bill_type FROM NO_SUCH_TABLE", "NO_SUCH_TABLE"),
    ],
)
def test_bad_queries_get_aws_messages(sql: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        check_query(sql, None, strict=False)
    assert message in caught.value.message


def test_columns_follow_the_table_configurations() -> None:
    sql = "SELECT line_item_resource_id, discount FROM COST_AND_USAGE_REPORT"
    configs = {"COST_AND_USAGE_REPORT": {"INCLUDE_RESOURCES": "TRUE"}}
    assert check_query(sql, configs, strict=False) == "COST_AND_USAGE_REPORT"
    configs["COST_AND_USAGE_REPORT"]["INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY"] = "TRUE"
    with pytest.raises(QueryError, match="not a subset"):
        check_query(sql, configs, strict=False)
    with pytest.raises(TableError, match="NOPE"):
        check_query(sql, {"COST_AND_USAGE_REPORT": {"NOPE": "TRUE"}}, strict=False)


def test_strict_mode_rejects_select_star(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(QueryError, match=INVALID):
        check_query("SELECT * FROM FOCUS_1_2_AWS", None, strict=True)
    monkeypatch.setenv("BCM_LOCAL_STRICT_SQL", "true")
    with pytest.raises(QueryError, match=INVALID):
        check_query("SELECT * FROM FOCUS_1_2_AWS", None)
    assert check_query("SELECT BilledCost FROM FOCUS_1_2_AWS", None) == "FOCUS_1_2_AWS"


def test_select_star_delivers_every_column_of_the_configuration(rt: Runtime) -> None:
    props = {"INCLUDE_RESOURCES": "TRUE", "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "TRUE"}
    table = run_parquet(rt, "SELECT * FROM COST_AND_USAGE_REPORT", {"COST_AND_USAGE_REPORT": props})
    assert table.schema.equals(expected_schema("COST_AND_USAGE_REPORT", props))
    assert table.num_rows > 100
    # split columns: filled on the container tasks' records, typed nulls on every other row
    tasks = table.column("split_line_item_parent_resource_id").drop_null()
    assert 0 < len(tasks) < table.num_rows
    assert table.column("split_line_item_split_cost").null_count == table.num_rows - len(tasks)


def test_projection_order_names_and_aliases(rt: Runtime) -> None:
    table = run_parquet(
        rt,
        "SELECT line_item_usage_amount AS amount, product.vcpu, line_item_product_code, "
        "product.operating_system AS os, resource_tags.user_team FROM COST_AND_USAGE_REPORT",
    )
    assert table.schema.names == ["amount", "vcpu", "line_item_product_code", "os", "user_team"]
    assert [str(t) for t in table.schema.types] == [
        "double",
        "string",
        "string",
        "string",
        "string",
    ]
    ec2 = table.filter(pc.equal(table.column("line_item_product_code"), "AmazonEC2"))
    assert set(ec2.column("os").drop_null().to_pylist()) == {"Linux", "Windows"}
    assert set(table.column("user_team").drop_null().to_pylist()) >= {"storefront", "data"}


def test_map_access_equals_the_map_value(rt: Runtime) -> None:
    table = run_parquet(
        rt,
        "SELECT product, product.vcpu AS vcpu, product.no_such_key AS missing, tags "
        "FROM COST_AND_USAGE_REPORT",
    )
    products = table.column("product").to_pylist()
    for entries, vcpu in zip(products, table.column("vcpu").to_pylist(), strict=True):
        assert dict(entries or []).get("vcpu") == vcpu
    assert table.column("missing").type == pa.string()
    assert table.column("missing").null_count == table.num_rows


def test_where_and_limit(rt: Runtime) -> None:
    everything = run_parquet(
        rt, "SELECT line_item_line_item_type, line_item_unblended_cost FROM COST_AND_USAGE_REPORT"
    )
    sql = (
        "SELECT line_item_line_item_type AS type, line_item_unblended_cost AS cost FROM "
        "COST_AND_USAGE_REPORT WHERE (line_item_line_item_type = 'Usage' OR "
        "line_item_line_item_type = 'Tax') AND NOT line_item_unblended_cost < 1"
    )
    filtered = run_parquet(rt, sql)
    assert set(filtered.column("type").to_pylist()) == {"Usage", "Tax"}
    assert pc.min(filtered.column("cost")).as_py() >= 1
    expected = sum(
        1
        for t, c in zip(
            everything.column(0).to_pylist(), everything.column(1).to_pylist(), strict=True
        )
        if t in ("Usage", "Tax") and c >= 1
    )
    assert filtered.num_rows == expected
    assert run_parquet(rt, sql + " LIMIT 7").num_rows == 7
    assert run_parquet(rt, sql.replace("'Tax'", "'NotAType'") + " AND 1 = 2").num_rows == 0
    between = run_parquet(
        rt,
        "SELECT line_item_usage_start_date FROM COST_AND_USAGE_REPORT WHERE "
        "line_item_usage_start_date BETWEEN TIMESTAMP '2026-05-03 00:00:00' AND "
        "TIMESTAMP '2026-05-04 00:00:00' AND product.vcpu IN ('2', '4')",
    )
    days = {d.day for d in between.column(0).to_pylist()}
    assert days <= {3, 4} and between.num_rows > 0


def test_empty_result_keeps_the_declared_schema(rt: Runtime) -> None:
    table = run_parquet(rt, "SELECT * FROM FOCUS_1_2_AWS WHERE BilledCost < -1000000")
    assert table.num_rows == 0
    assert table.schema.equals(expected_schema("FOCUS_1_2_AWS"))
