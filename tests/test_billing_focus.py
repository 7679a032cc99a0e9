"""FOCUS conformance of FOCUS_1_2_AWS and FOCUS_1_0_AWS (requirements of the spec that
apply to the columns AWS exports)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from billing_support import dataset, fetch, scalar, view
from focus_rules import ALLOWED

from bcm_local.billing import tables
from bcm_local.billing.model.build import Dataset

SERVICE_CATEGORIES = ALLOWED["ServiceCategory"]  # FOCUS 1.2's list


@pytest.fixture(scope="module", params=[tables.FOCUS_1_2, tables.FOCUS_1_0])
def focus(request: pytest.FixtureRequest) -> Iterator[tuple[Dataset, str]]:
    data = dataset("HOURLY", BCM_LOCAL_BILLING_BACKFILL_MONTHS="1")
    props = {"TIME_GRANULARITY": "HOURLY"} if request.param == tables.FOCUS_1_2 else None
    view(data, "f", request.param, props)
    yield data, request.param
    data.con.close()


def violations(data: Dataset, condition: str) -> int:
    return int(scalar(data, f"SELECT count(*) FROM f WHERE NOT ({condition})"))


def test_mandatory_columns_are_never_null(focus: tuple[Dataset, str]) -> None:
    data, table = focus
    required = [
        "BilledCost",
        "BillingAccountId",
        "BillingCurrency",
        "BillingPeriodStart",
        "BillingPeriodEnd",
        "ChargeCategory",
        "ChargeFrequency",
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "EffectiveCost",
        "ListCost",
        "ContractedCost",
        "InvoiceIssuerName",
        "ProviderName",
        "PublisherName",
        "ServiceName",
        "ServiceCategory",
        "SubAccountId",
        "ChargeDescription",
    ]
    if table == tables.FOCUS_1_2:
        required += ["BillingAccountType", "ServiceSubcategory", "PricingCurrency"]
    for column in required:
        assert violations(data, f"{column} IS NOT NULL") == 0, column


def test_allowed_values(focus: tuple[Dataset, str]) -> None:
    data, _ = focus
    allowed = {
        "ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
        "ChargeClass": {None, "Correction"},
        "ChargeFrequency": {"One-Time", "Recurring", "Usage-Based"},
        "PricingCategory": {None, "Standard", "Dynamic", "Committed", "Other"},
        "CommitmentDiscountCategory": {None, "Spend", "Usage"},
        "CommitmentDiscountStatus": {None, "Used", "Unused"},
        "ServiceCategory": SERVICE_CATEGORIES,
        "ProviderName": {"AWS"},
    }
    for column, values in allowed.items():
        found = {v for (v,) in fetch(data, f"SELECT DISTINCT {column} FROM f")}
        assert found <= values, column
    categories = {v for (v,) in fetch(data, "SELECT DISTINCT ChargeCategory FROM f")}
    assert categories == {"Usage", "Purchase", "Tax", "Credit"}


def test_currency_and_dates(focus: tuple[Dataset, str]) -> None:
    data, _ = focus
    assert violations(data, "regexp_full_match(BillingCurrency, '[A-Z]{3}')") == 0
    assert violations(data, "ChargePeriodStart < ChargePeriodEnd") == 0
    assert (
        violations(
            data, "BillingPeriodStart <= ChargePeriodStart AND ChargePeriodEnd <= BillingPeriodEnd"
        )
        == 0
    )
    assert (
        violations(data, "day(BillingPeriodStart) = 1 AND BillingPeriodStart < BillingPeriodEnd")
        == 0
    )
    assert scalar(data, "SELECT count(DISTINCT BillingPeriodStart) FROM f") == 2


def test_charge_rules(focus: tuple[Dataset, str]) -> None:
    data, _ = focus
    assert violations(data, "ChargeCategory <> 'Purchase' OR ChargeFrequency <> 'Usage-Based'") == 0
    assert violations(data, "ChargeCategory <> 'Usage' OR ChargeFrequency = 'Usage-Based'") == 0
    assert violations(data, "ChargeCategory <> 'Credit' OR BilledCost <= 0") == 0
    assert (
        violations(data, "ChargeClass IS NULL OR ChargeCategory IN ('Credit', 'Adjustment')") == 0
    )


def test_usage_rows_have_quantities_units_and_prices(focus: tuple[Dataset, str]) -> None:
    data, _ = focus
    usage = "ChargeCategory <> 'Usage' OR ChargeClass = 'Correction' OR"
    for condition in (
        "ConsumedQuantity IS NOT NULL AND ConsumedQuantity >= 0",
        "ConsumedUnit IS NOT NULL",
        "PricingQuantity IS NOT NULL AND PricingUnit IS NOT NULL",
        "ListUnitPrice IS NOT NULL AND ContractedUnitPrice IS NOT NULL",
        "SkuId IS NOT NULL AND SkuPriceId IS NOT NULL",
    ):
        assert violations(data, f"{usage} ({condition})") == 0, condition


def test_cost_relations(focus: tuple[Dataset, str]) -> None:
    data, _ = focus
    usage = "ChargeCategory <> 'Usage' OR"
    assert violations(data, f"{usage} EffectiveCost <= ListCost + 1e-9") == 0
    assert violations(data, f"{usage} ContractedCost <= ListCost + 1e-9") == 0
    assert (
        violations(
            data, f"{usage} abs(ContractedCost - ContractedUnitPrice * PricingQuantity) < 1e-6"
        )
        == 0
    )
    assert violations(data, f"{usage} abs(ListCost - ListUnitPrice * PricingQuantity) < 1e-6") == 0
    # commitment-covered usage is billed through the commitment, at a lower effective cost
    covered = "ChargeCategory = 'Usage' AND CommitmentDiscountId IS NOT NULL"
    assert scalar(data, f"SELECT count(*) FROM f WHERE {covered}") > 0
    assert scalar(data, f"SELECT max(BilledCost) FROM f WHERE {covered}") == 0
    assert scalar(
        data, f"SELECT bool_and(EffectiveCost < ListCost) FROM f WHERE {covered} AND ListCost > 0"
    )


def test_commitment_columns_go_together(focus: tuple[Dataset, str]) -> None:
    data, _ = focus
    assert (
        violations(
            data,
            "ChargeCategory <> 'Usage' OR (PricingCategory = 'Committed') = (CommitmentDiscountId "
            "IS NOT NULL)",
        )
        == 0
    )
    assert (
        violations(
            data,
            "CommitmentDiscountStatus IS NULL OR (CommitmentDiscountId IS NOT NULL AND "
            "ChargeCategory = 'Usage')",
        )
        == 0
    )
    assert (
        violations(data, "(CommitmentDiscountId IS NULL) = (CommitmentDiscountCategory IS NULL)")
        == 0
    )
    assert (
        violations(data, "(CommitmentDiscountId IS NULL) = (CommitmentDiscountType IS NULL)") == 0
    )
    assert violations(data, "RegionId IS NULL OR RegionName IS NOT NULL") == 0


def test_capacity_reservation_columns(focus: tuple[Dataset, str]) -> None:
    data, table = focus
    if table != tables.FOCUS_1_2:
        pytest.skip("FOCUS 1.0 has no capacity reservation columns")
    assert (
        violations(data, "(CapacityReservationId IS NULL) = (CapacityReservationStatus IS NULL)")
        == 0
    )
    statuses = {s for (s,) in fetch(data, "SELECT DISTINCT CapacityReservationStatus FROM f")}
    assert statuses == {None, "Used", "Unused"}
