"""FOCUS_1_2_AWS and FOCUS_1_0_AWS over the model.

Rows are CUR 2.0's rows without the SavingsPlanNegation twins: covered usage is billed at 0
instead, so the FOCUS BilledCost total equals CUR's net unblended cost total.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bcm_local.billing import tables
from bcm_local.billing.views import (
    AMORTIZED,
    ROWS,
    USAGE_TYPES,
    Source,
    const,
    discount_expr,
    select_list,
)

if TYPE_CHECKING:
    from bcm_local.billing.model import Dataset

_ONCE = "pk = 0"
_EFFECTIVE = f"({AMORTIZED}) + CASE WHEN line_item_type IN {USAGE_TYPES} THEN k * edp ELSE 0.0 END"

COMMON: dict[str, str] = {
    "AvailabilityZone": "az",
    "BilledCost": (
        "CASE WHEN line_item_type = 'SavingsPlanCoveredUsage' THEN 0.0 ELSE k * (c + edp) END"
    ),
    "BillingAccountId": "payer_id",
    "BillingAccountName": "payer_name",
    "BillingAccountType": const("Payer Account"),
    "BillingCurrency": const("USD"),
    "BillingPeriodEnd": "bp_end",
    "BillingPeriodStart": "bp_start",
    "CapacityReservationId": "cr_arn",
    "CapacityReservationStatus": "cr_status",
    "ChargeCategory": "charge_category",
    "ChargeClass": "charge_class",
    "ChargeDescription": "description",
    "ChargeFrequency": "charge_frequency",
    "ChargePeriodEnd": "end_ts",
    "ChargePeriodStart": "start_ts",
    "CommitmentDiscountCategory": "commitment_category",
    "CommitmentDiscountId": "commitment_id",
    "CommitmentDiscountQuantity": (
        "CASE WHEN sp_rate IS NOT NULL THEN k * sp_eff WHEN sp_commitment IS NOT NULL THEN k * c "
        "WHEN line_item_type = 'DiscountedUsage' THEN k * u END"
    ),
    "CommitmentDiscountStatus": "commitment_status",
    "CommitmentDiscountType": "commitment_type",
    "CommitmentDiscountUnit": "commitment_unit",
    "ConsumedQuantity": "CASE WHEN charge_category = 'Usage' THEN k * u END",
    "ConsumedUnit": "CASE WHEN charge_category = 'Usage' THEN unit END",
    "ContractedCost": f"CASE WHEN {_ONCE} THEN k * c ELSE k * pub END",
    "ContractedUnitPrice": "lp",
    "EffectiveCost": _EFFECTIVE,
    "InvoiceId": "invoice_id",
    "InvoiceIssuerName": const("Amazon Web Services, Inc."),
    "ListCost": f"CASE WHEN {_ONCE} THEN k * c ELSE k * pub END",
    "ListUnitPrice": "lp",
    "PricingCategory": "pricing_category",
    "PricingCurrency": const("USD"),
    "PricingCurrencyContractedUnitPrice": "lp",
    "PricingCurrencyEffectiveCost": _EFFECTIVE,
    "PricingCurrencyListUnitPrice": "lp",
    "PricingQuantity": f"CASE WHEN {_ONCE} THEN NULL ELSE k * u END",
    "PricingUnit": "unit",
    "ProviderName": const("AWS"),
    "PublisherName": const("AWS"),
    "RegionId": "region",
    "RegionName": "region_name",
    "ResourceId": "resource_id",
    "ResourceName": "resource_name",
    "ResourceType": "resource_type",
    "ServiceCategory": "service_category",
    "ServiceName": "service_name",
    "ServiceSubcategory": "service_subcategory",
    "SkuId": "sku",
    "SkuMeter": "sku_meter",
    "SkuPriceId": "rate_code",
    "SkuPriceDetails": "product_map",
    "SubAccountId": "account_id",
    "SubAccountName": "account_name",
    "SubAccountType": const("Linked Account"),
    "Tags": "focus_tags",
    "x_CostCategories": "cost_category",
    "x_Operation": "operation",
    "x_ServiceCode": "product_code",
    "x_UsageType": "usage_type",
}

_WHERE = "WHERE line_item_type <> 'SavingsPlanNegation'"


def expressions(data: Dataset, props: dict[str, str]) -> dict[str, str]:
    return {**COMMON, "x_Discounts": discount_expr(data)}


def focus_1_2(data: Dataset, props: dict[str, str], src: Source = ROWS) -> str:
    exprs = expressions(data, props)
    return f"SELECT\n  {select_list(tables.FOCUS_1_2, props, exprs, src)}\nFROM {src.li} {_WHERE}"


def focus_1_0(data: Dataset, props: dict[str, str], src: Source = ROWS) -> str:
    exprs = expressions(data, props)
    return f"SELECT\n  {select_list(tables.FOCUS_1_0, props, exprs, src)}\nFROM {src.li} {_WHERE}"
