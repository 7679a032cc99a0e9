"""FOCUS_1_2_AWS (60 columns): its columns, its table property and its SELECT over the model.

Types follow AWS's table dictionary: FOCUS 1.2 dates are `timestamp_milliseconds` (FOCUS
1.0's `timestamp`); costs, prices and quantities `double`; Tags and the `x_` maps are maps.
Rows are CUR 2.0's rows without the SavingsPlanNegation twins: covered usage is billed at 0
instead, so the FOCUS BilledCost total equals CUR's net unblended cost total. FOCUS 1.0
(focus_1_0.py) shares the descriptions and the expressions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bcm_local.billing.tables.schema import Table, billing_view, columns_of, granularity
from bcm_local.billing.tables.sql import (
    AMORTIZED,
    ROWS,
    USAGE_TYPES,
    Source,
    const,
    discount_expr,
    select_list,
)
from bcm_local.billing.usage.commitments import TERM_HOURS

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset

NAME = "FOCUS_1_2_AWS"

s, d = "string", "double"
ms, md = "map<string,string>", "map<string,double>"

_DESCRIPTIONS: dict[str, str] = {
    "AvailabilityZone": "Provider-assigned identifier of an isolated location within a region.",
    "BilledCost": "Cost that is the basis for invoicing, after discounts, without amortization.",
    "BillingAccountId": "Identifier of the billing (payer) account.",
    "BillingAccountName": "Display name of the billing account.",
    "BillingAccountType": "Provider label for the kind of billing account.",
    "BillingCurrency": "Currency the charge was billed in (ISO 4217).",
    "BillingPeriodEnd": "Exclusive end of the billing period.",
    "BillingPeriodStart": "Inclusive start of the billing period.",
    "CapacityReservationId": "Identifier of the capacity reservation.",
    "CapacityReservationStatus": "Whether the charge uses reserved capacity or is unused capacity.",
    "ChargeCategory": "Highest-level kind of charge: Usage, Purchase, Tax, Credit, Adjustment.",
    "ChargeClass": "Correction when the row corrects a previously invoiced period.",
    "ChargeDescription": "Summary of the charge's purpose and price.",
    "ChargeFrequency": "How often the charge occurs: One-Time, Recurring, Usage-Based.",
    "ChargePeriodEnd": "Exclusive end of the period the row applies to.",
    "ChargePeriodStart": "Inclusive start of the period the row applies to.",
    "CommitmentDiscountCategory": "Spend (Savings Plans) or Usage (Reserved Instances).",
    "CommitmentDiscountId": "Identifier (ARN) of the commitment discount.",
    "CommitmentDiscountName": "Display name of the commitment discount.",
    "CommitmentDiscountQuantity": "Amount of the commitment discount purchased or consumed.",
    "CommitmentDiscountStatus": "Used or Unused commitment.",
    "CommitmentDiscountType": "Provider label for the kind of commitment discount.",
    "CommitmentDiscountUnit": "Unit of CommitmentDiscountQuantity.",
    "ConsumedQuantity": "Volume of the resource or service used.",
    "ConsumedUnit": "Unit of ConsumedQuantity.",
    "ContractedCost": "Cost at negotiated (contracted) prices.",
    "ContractedUnitPrice": "Negotiated unit price.",
    "EffectiveCost": "Amortized cost after discounts and commitment purchases.",
    "InvoiceId": "Identifier of the invoice the row belongs to.",
    "InvoiceIssuerName": "Entity that issues the invoice.",
    "ListCost": "Cost at public list prices.",
    "ListUnitPrice": "Public list unit price.",
    "PricingCategory": "Standard, Dynamic, Committed or Other.",
    "PricingCurrency": "Currency the prices are published in.",
    "PricingCurrencyContractedUnitPrice": "Contracted unit price in the pricing currency.",
    "PricingCurrencyEffectiveCost": "Effective cost in the pricing currency.",
    "PricingCurrencyListUnitPrice": "List unit price in the pricing currency.",
    "PricingQuantity": "Volume of the SKU priced.",
    "PricingUnit": "Unit of PricingQuantity.",
    "ProviderName": "Provider of the resource or service.",
    "PublisherName": "Publisher of the resource or service.",
    "RegionId": "Provider-assigned region identifier.",
    "RegionName": "Display name of the region.",
    "ResourceId": "Identifier of the resource.",
    "ResourceName": "Display name of the resource.",
    "ResourceType": "Kind of resource.",
    "ServiceCategory": "FOCUS category of the service.",
    "ServiceName": "Display name of the service.",
    "ServiceSubcategory": "FOCUS subcategory of the service.",
    "SkuId": "Identifier of the SKU.",
    "SkuMeter": "What the SKU meters.",
    "SkuPriceDetails": "Properties of the SKU price, by name.",
    "SkuPriceId": "Identifier of the SKU price.",
    "SubAccountId": "Identifier of the account that used the resource.",
    "SubAccountName": "Name of the account that used the resource.",
    "SubAccountType": "Provider label for the kind of sub account.",
    "Tags": "Tags of the resource, by key.",
    "x_CostCategories": "AWS cost categories of the row, by name.",
    "x_Discounts": "AWS discounts applied to the row, by name.",
    "x_Operation": "AWS operation of the usage.",
    "x_ServiceCode": "AWS service code.",
    "x_UsageType": "AWS usage type.",
}

_TYPES: dict[str, str] = {
    **dict.fromkeys(
        [
            "BilledCost",
            "CommitmentDiscountQuantity",
            "ConsumedQuantity",
            "ContractedCost",
            "ContractedUnitPrice",
            "EffectiveCost",
            "ListCost",
            "ListUnitPrice",
            "PricingCurrencyContractedUnitPrice",
            "PricingCurrencyEffectiveCost",
            "PricingCurrencyListUnitPrice",
            "PricingQuantity",
        ],
        d,
    ),
    "Tags": ms,
    "SkuPriceDetails": ms,
    "x_CostCategories": ms,
    "x_Discounts": md,
}

_DATES = ("BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart")

NAMES = [
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
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
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceId",
    "SkuPriceDetails",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
    "x_Discounts",
    "x_Operation",
    "x_ServiceCode",
]


def focus_columns(names: list[str], date_type: str) -> tuple[tuple[str, str, str, str], ...]:
    return tuple(
        (n, date_type if n in _DATES else _TYPES.get(n, s), "", _DESCRIPTIONS[n]) for n in names
    )


TABLE = Table(
    NAME,
    "FOCUS 1.2 cost and usage data with AWS columns (x_Discounts, x_Operation, x_ServiceCode).",
    columns_of(focus_columns(NAMES, "timestamp_milliseconds")),
    (granularity("DAILY"), billing_view()),
)

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
        "WHEN line_item_type = 'DiscountedUsage' THEN k * u "
        # reservation fees: the hours reserved in the period, and the term's hours upfront
        "WHEN line_item_type = 'RIFee' THEN k * u "
        "WHEN line_item_type = 'Fee' AND ri_arn IS NOT NULL THEN k * u * "
        f"CASE lease_contract_length WHEN '3yr' THEN {TERM_HOURS['3yr']} "
        f"ELSE {TERM_HOURS['1yr']} END END"
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
    # the usage amount of every Usage and Purchase row (CUR's line_item_usage_amount), so each
    # row with a PricingUnit has a PricingQuantity; null on tax and credits
    "PricingQuantity": "CASE WHEN charge_category IN ('Usage', 'Purchase') THEN k * u END",
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
    "SkuPriceDetails": "CASE WHEN rate_code IS NOT NULL THEN product_map END",
    "SubAccountId": "account_id",
    "SubAccountName": "account_name",
    "SubAccountType": const("Linked Account"),
    "Tags": "focus_tags",
    "x_CostCategories": "cost_category",
    "x_Operation": "operation",
    "x_ServiceCode": "product_code",
    "x_UsageType": "usage_type",
}

WHERE = "WHERE line_item_type <> 'SavingsPlanNegation'"


def expressions(data: Dataset, props: dict[str, str]) -> dict[str, str]:
    return {**COMMON, "x_Discounts": discount_expr(data)}


def sql(data: Dataset, props: dict[str, str], src: Source = ROWS) -> str:
    exprs = expressions(data, props)
    return f"SELECT\n  {select_list(TABLE, props, exprs, src)}\nFROM {src.li} {WHERE}"
