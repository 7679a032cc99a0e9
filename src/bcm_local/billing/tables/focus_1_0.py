"""FOCUS_1_0_AWS (48 columns): FOCUS 1.2's descriptions and expressions over the columns
FOCUS 1.0 has, with `timestamp` dates; its one table property is BILLING_VIEW_ARN (AWS
documents none; the emulator lets a FOCUS 1.0 export read a billing view, as CUR 2.0 and
FOCUS 1.2 do)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bcm_local.billing.tables import focus_1_2
from bcm_local.billing.tables.schema import Table, billing_view, columns_of
from bcm_local.billing.tables.sql import ROWS, Source, select_list

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset

NAME = "FOCUS_1_0_AWS"

NAMES = [
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountType",
    "CommitmentDiscountStatus",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
    "x_CostCategories",
    "x_Discounts",
    "x_Operation",
    "x_ServiceCode",
    "x_UsageType",
]


TABLE = Table(
    NAME,
    "FOCUS 1.0 cost and usage data with AWS columns (x_CostCategories, x_Discounts, "
    "x_Operation, x_ServiceCode, x_UsageType).",
    columns_of(focus_1_2.focus_columns(NAMES, "timestamp")),
    (billing_view(),),
)


def sql(data: Dataset, props: dict[str, str], src: Source = ROWS) -> str:
    exprs = focus_1_2.expressions(data, props)
    return f"SELECT\n  {select_list(TABLE, props, exprs, src)}\nFROM {src.li} {focus_1_2.WHERE}"
