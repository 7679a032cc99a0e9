"""Table definitions: ListTables/GetTable data, properties and their effect on columns."""

from __future__ import annotations

import pytest

from bcm_local.billing import tables
from bcm_local.billing.tables import TableError, get_table, list_tables

AWS_TYPES = {
    "string",
    "double",
    "int",
    "boolean",
    "timestamp",
    "timestamp_milliseconds",
    "map<string,string>",
    "map<string,double>",
}
CUR = tables.CUR2
FLAGS = {
    "INCLUDE_RESOURCES": {"line_item_resource_id"},
    "INCLUDE_CAPACITY_RESERVATION_DATA": {
        "capacity_reservation_capacity_reservation_arn",
        "capacity_reservation_capacity_reservation_status",
        "capacity_reservation_capacity_reservation_type",
    },
    "INCLUDE_IAM_PRINCIPAL_DATA": {"line_item_iam_principal"},
}


def names(table: str, props: dict[str, str] | None = None) -> list[str]:
    schema = get_table(table, props)["Schema"]
    assert isinstance(schema, list)
    return [c["Name"] for c in schema]


def test_list_tables_describes_six_tables_with_their_properties() -> None:
    listed = {t["TableName"]: t for t in list_tables()}
    assert set(listed) == {
        "COST_AND_USAGE_REPORT",
        "FOCUS_1_2_AWS",
        "FOCUS_1_0_AWS",
        "COST_OPTIMIZATION_RECOMMENDATIONS",
        "COST_AND_USAGE_DASHBOARD",
        "CARBON_EMISSIONS",
    }
    props = {p["Name"]: p for p in listed[CUR]["TableProperties"]}  # type: ignore[union-attr]
    assert set(props) == {
        "TIME_GRANULARITY",
        "INCLUDE_RESOURCES",
        "INCLUDE_SPLIT_COST_ALLOCATION_DATA",
        "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY",
        "INCLUDE_CAPACITY_RESERVATION_DATA",
        "INCLUDE_IAM_PRINCIPAL_DATA",
        "BILLING_VIEW_ARN",
    }
    assert props["TIME_GRANULARITY"]["ValidValues"] == ["HOURLY", "DAILY", "MONTHLY"]
    for table in listed.values():
        for prop in table["TableProperties"]:  # type: ignore[union-attr]
            assert prop["Description"]
            if prop["ValidValues"]:
                assert prop["DefaultValue"] in prop["ValidValues"]
    reco = {p["Name"] for p in listed[tables.RECOMMENDATIONS]["TableProperties"]}  # type: ignore[union-attr]
    assert reco == {"FILTER", "INCLUDE_ALL_RECOMMENDATIONS"}
    focus = [p["Name"] for p in listed[tables.FOCUS_1_2]["TableProperties"]]  # type: ignore[union-attr]
    assert focus == ["TIME_GRANULARITY", "BILLING_VIEW_ARN"]  # the view: an emulator choice
    focus_1_0 = [p["Name"] for p in listed[tables.FOCUS_1_0]["TableProperties"]]  # type: ignore[union-attr]
    assert focus_1_0 == ["BILLING_VIEW_ARN"]


@pytest.mark.parametrize("table", list(tables.TABLES))
def test_schema_types_use_the_table_dictionary_spelling(table: str) -> None:
    described = get_table(table)
    assert described["TableName"] == table
    schema = described["Schema"]
    assert isinstance(schema, list) and schema
    assert {c["Type"] for c in schema} <= AWS_TYPES
    assert all(c["Description"] for c in schema)
    assert len({c["Name"] for c in schema}) == len(schema)


def test_column_counts() -> None:
    every = {p: "TRUE" for p in (*FLAGS, "INCLUDE_SPLIT_COST_ALLOCATION_DATA")}
    assert len(names(CUR, every)) == 131
    assert len(names(CUR)) == 131 - 1 - 3 - 1 - 11
    assert len(names(tables.FOCUS_1_2)) == 60
    assert len(names(tables.FOCUS_1_0)) == 48


@pytest.mark.parametrize("flag", sorted(FLAGS))
def test_each_include_flag_adds_its_columns(flag: str) -> None:
    added = set(names(CUR, {flag: "TRUE"})) - set(names(CUR, {flag: "FALSE"}))
    assert added == FLAGS[flag]


def test_split_cost_allocation_adds_the_split_columns() -> None:
    added = set(names(CUR, {"INCLUDE_SPLIT_COST_ALLOCATION_DATA": "TRUE"})) - set(names(CUR))
    assert len(added) == 11 and all(n.startswith("split_line_item_") for n in added)


def test_manual_discount_compatibility_removes_the_discount_columns() -> None:
    removed = set(names(CUR)) - set(names(CUR, {"INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY": "TRUE"}))
    assert removed == {"discount", "discount_total_discount"}


def test_get_table_resolves_properties() -> None:
    resolved = get_table(CUR, {"TIME_GRANULARITY": "hourly"})["TableProperties"]
    assert isinstance(resolved, dict)
    assert resolved["TIME_GRANULARITY"] == "HOURLY"
    assert resolved["INCLUDE_RESOURCES"] == "FALSE"
    assert "BILLING_VIEW_ARN" not in resolved
    view = "arn:aws:billing::000000000000:billingview/primary"
    assert get_table(CUR, {"BILLING_VIEW_ARN": view})["TableProperties"]["BILLING_VIEW_ARN"] == view  # type: ignore[index]
    assert get_table(tables.CARBON)["TableProperties"] == {}


@pytest.mark.parametrize(
    ("table", "props", "text"),
    [
        ("NOT_A_TABLE", None, "NOT_A_TABLE"),
        ("cost_and_usage_report", None, "cost_and_usage_report"),
        (CUR, {"NOPE": "TRUE"}, "NOPE"),
        (CUR, {"TIME_GRANULARITY": "WEEKLY"}, "WEEKLY"),
        (CUR, {"INCLUDE_RESOURCES": "yes"}, "INCLUDE_RESOURCES"),
        (CUR, {"BILLING_VIEW_ARN": "arn:aws:s3:::bucket"}, "BILLING_VIEW_ARN"),
        (tables.FOCUS_1_0, {"TIME_GRANULARITY": "DAILY"}, "TIME_GRANULARITY"),
        (tables.RECOMMENDATIONS, {"FILTER": "[1]"}, "FILTER"),
        (tables.RECOMMENDATIONS, {"FILTER": '{"colour": ["red"]}'}, "colour"),
        (tables.RECOMMENDATIONS, {"FILTER": '{"restartNeeded": "yes"}'}, "restartNeeded"),
    ],
)
def test_bad_tables_and_properties_raise_table_error(
    table: str, props: dict[str, str] | None, text: str
) -> None:
    with pytest.raises(TableError) as caught:
        get_table(table, props)
    assert text in caught.value.message


def test_filter_accepts_cost_optimization_hub_filters() -> None:
    value = '{"actionTypes": ["Rightsize"], "restartNeeded": true}'
    resolved = get_table(tables.RECOMMENDATIONS, {"FILTER": value})["TableProperties"]
    assert resolved == {"FILTER": value, "INCLUDE_ALL_RECOMMENDATIONS": "FALSE"}  # type: ignore[comparison-overlap]
