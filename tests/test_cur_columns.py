"""Legacy column names from CUR 2.0 ones, and back: AWS's two naming schemes agree."""

from __future__ import annotations

import pytest

from bcm_local.billing import tables
from bcm_local.billing.tables.types import is_map
from bcm_local.delivery.layouts.legacy.columns import (
    NOT_IN_LEGACY,
    legacy_columns,
    map_key_name,
    plain_column,
    snake,
)

ALL_FLAGS = {
    "INCLUDE_RESOURCES": "TRUE",
    "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "TRUE",
    "INCLUDE_CAPACITY_RESERVATION_DATA": "TRUE",
    "INCLUDE_IAM_PRINCIPAL_DATA": "TRUE",
}


@pytest.mark.parametrize(
    ("legacy", "athena"),
    [
        ("lineItem/UnblendedCost", "line_item_unblended_cost"),
        ("identity/LineItemId", "identity_line_item_id"),
        ("resourceTags/user:Name", "resource_tags_user_name"),
        ("reservation/ReservationARN", "reservation_reservation_a_r_n"),
        ("pricing/publicOnDemandCost", "pricing_public_on_demand_cost"),
        ("product/ProductName", "product_product_name"),
        ("costCategory/Team Name", "cost_category_team_name"),
    ],
)
def test_snake_case_is_awss(legacy: str, athena: str) -> None:
    assert snake(legacy) == athena


def test_every_cur2_column_round_trips_through_its_legacy_name() -> None:
    for col in tables.columns(tables.CUR2, ALL_FLAGS):
        if is_map(col.type) or col.name in NOT_IN_LEGACY:
            continue
        legacy = plain_column(col.name, col.type)
        assert legacy is not None, col.name
        assert legacy.parquet_name == col.name, (col.name, legacy.header)


@pytest.mark.parametrize(
    ("cur2", "legacy"),
    [
        ("line_item_unblended_cost", "lineItem/UnblendedCost"),
        ("bill_payer_account_id", "bill/PayerAccountId"),
        ("pricing_term", "pricing/term"),
        ("pricing_rate_code", "pricing/RateCode"),
        ("product_instance_type", "product/instanceType"),
        ("product_servicecode", "product/servicecode"),
        ("savings_plan_savings_plan_a_r_n", "savingsPlan/SavingsPlanARN"),
        ("split_line_item_split_cost", "splitLineItem/SplitCost"),
        ("discount_bundled_discount", "discount/BundledDiscount"),
    ],
)
def test_legacy_names_follow_the_data_dictionary(cur2: str, legacy: str) -> None:
    col = plain_column(cur2, "string")
    assert col is not None and col.header == legacy


@pytest.mark.parametrize(
    ("category", "key", "name"),
    [
        ("resourceTags", "user_Name", "user:Name"),
        ("resourceTags", "user:team", "user:team"),
        ("resourceTags", "aws_createdBy", "aws:createdBy"),
        ("product", "product_name", "ProductName"),
        ("product", "vcpu", "vcpu"),
        ("product", "instanceType", "instanceType"),
        ("product", "physical_processor", "physicalProcessor"),
        ("discount", "edp_discount", "EdpDiscount"),
        ("costCategory", "team", "team"),
    ],
)
def test_map_keys_become_legacy_columns(category: str, key: str, name: str) -> None:
    assert map_key_name(category, key) == name


def test_columns_come_in_legacy_order_and_maps_expand() -> None:
    cur2 = [(c.name, c.type) for c in tables.columns(tables.CUR2, {"INCLUDE_RESOURCES": "TRUE"})]
    keys = {
        "product": ["product_name", "vcpu", "instance_type"],
        "resource_tags": ["user_Name"],
        "cost_category": ["team"],
        "tags": ["ignored"],
    }
    headers = [c.header for c in legacy_columns(cur2, keys)]
    assert headers[:2] == ["identity/LineItemId", "identity/TimeInterval"]
    categories = [h.split("/")[0] for h in headers]
    order = ["identity", "bill", "lineItem", "product", "pricing", "reservation", "savingsPlan"]
    firsts = [categories.index(c) for c in order]
    assert firsts == sorted(firsts)
    assert headers[-2:] == ["resourceTags/user:Name", "costCategory/team"]
    assert headers.count("product/instanceType") == 1  # the map key repeats a scalar column
    assert "product/ProductName" in headers and "product/vcpu" in headers
    assert not any(h.startswith(("tags/", "capacityReservation")) for h in headers)
    assert "bill/PayerAccountName" not in headers
