"""FOCUS 1.2 and FOCUS 1.0 conformance rules as data, checked by tests/test_focus_conformance.py
against what the emulator delivers (FOCUS_1_2_AWS, FOCUS_1_0_AWS).

One rule per line: `(spec id, column, check, argument)`.

- FOCUS 1.2 ids are the FinOps Foundation's requirement ids (FOCUS_Spec v1.2,
  specification/requirements_model, as bundled in focus-validator 2.2.1 as
  model-1.2.0.1.json), e.g. `PricingUnit-C-005-C` = "PricingUnit MUST be null when
  PricingQuantity is null".
- FOCUS 1.0 has no requirement ids; its rules are named `1.0:<Column>:<statement>` after the
  column section of the FOCUS 1.0 specification whose normative sentence they encode.

Checks (`argument` in brackets); each is a property every row (or the dataset) must have:

    type [string|decimal|datetime]  the delivered column's data type
    key_value                       Key-Value Format: a serialized JSON object per row
    not_null                        the column is never null
    null_when_null [column]         null wherever the other column is null
    not_null_when_not_null [column] not null wherever the other column is not null
    null_when [condition]           null on the rows where the SQL condition holds
    not_null_when [condition]       not null on the rows where the SQL condition holds
    one_of [value set]              null or one of ALLOWED[value set]
    matches [regex]                 null or fully matching the regular expression
    non_negative                    null or >= 0
    holds [condition]               the SQL condition is true on every row (a relation)
    one_per [column]                at most one distinct value per value of the other column
    parent [column]                 (column, other) is a pair of SUBCATEGORY_PARENT
    no_empty_strings                (column "*") no string column holds '' or only spaces

Conditions are DuckDB SQL over the delivered columns; `{now}` is the emulator's clock.

A rule AWS's own export breaks has an entry in DEVIATIONS_1_2 / DEVIATIONS_1_0: the rows
AWS's documented gap covers, as a SQL condition (the test asserts that the violating rows are
exactly these, and that they occur), or the data type AWS delivers instead (Key-Value
columns are Parquet maps). OPEN_DEFECTS_* are violations that are this emulator's and not
AWS's: they are asserted exactly as well, so fixing one (or adding another) fails the test
until this file says so. docs/focus-conformance.md is the same list for people.
"""

# ruff: noqa: E501 (the rules are one per line)
from __future__ import annotations

from dataclasses import dataclass

Rule = tuple[str, str, str, str]

# "ChargeCategory is Usage or Purchase and ChargeClass is not Correction" (null ChargeClass
# is not "Correction")
UP = "ChargeCategory IN ('Usage', 'Purchase') AND ChargeClass IS DISTINCT FROM 'Correction'"
TAX = "ChargeCategory = 'Tax'"
NOT_CORRECTION = "ChargeClass IS DISTINCT FROM 'Correction'"
# a one-time purchase of a commitment discount: paid for charges to come (the term's usage)
FUTURE_PURCHASE = "ChargeCategory = 'Purchase' AND ChargeFrequency = 'One-Time' AND CommitmentDiscountId IS NOT NULL"


def _if(condition: str, requirement: str) -> str:
    """`requirement` on the rows where `condition` holds (a null condition does not hold, a
    null requirement is not met)."""
    return f"NOT coalesce(({condition}), FALSE) OR coalesce(({requirement}), FALSE)"


def _times(price: str, cost: str) -> str:
    """`price * PricingQuantity = cost` where both are known, except on corrections."""
    return _if(
        f"{price} IS NOT NULL AND PricingQuantity IS NOT NULL AND {NOT_CORRECTION}",
        f"abs({price} * PricingQuantity - {cost}) <= 1e-9 + 1e-9 * abs({cost})",
    )


def _equal(a: str, b: str) -> str:
    return f"abs({a} - {b}) <= 1e-9 + 1e-9 * abs({b})"


ALLOWED: dict[str, frozenset[str]] = {
    "ChargeCategory": frozenset({"Usage", "Purchase", "Tax", "Credit", "Adjustment"}),
    "ChargeClass": frozenset({"Correction"}),
    "ChargeFrequency": frozenset({"One-Time", "Recurring", "Usage-Based"}),
    "CommitmentDiscountCategory": frozenset({"Spend", "Usage"}),
    "CommitmentDiscountStatus": frozenset({"Used", "Unused"}),
    "CapacityReservationStatus": frozenset({"Used", "Unused"}),
    "PricingCategory": frozenset({"Standard", "Dynamic", "Committed", "Other"}),
    "ServiceCategory": frozenset(
        {
            "AI and Machine Learning",
            "Analytics",
            "Business Applications",
            "Compute",
            "Databases",
            "Developer Tools",
            "Multicloud",
            "Identity",
            "Integration",
            "Internet of Things",
            "Management and Governance",
            "Media",
            "Migration",
            "Mobile",
            "Networking",
            "Security",
            "Storage",
            "Web",
            "Other",
        }
    ),
}

# FOCUS 1.2 ServiceSubcategory allowed values -> their one parent ServiceCategory
SUBCATEGORY_PARENT: dict[str, str] = {
    "AI Platforms": "AI and Machine Learning",
    "Bots": "AI and Machine Learning",
    "Generative AI": "AI and Machine Learning",
    "Machine Learning": "AI and Machine Learning",
    "Natural Language Processing": "AI and Machine Learning",
    "Other (AI and Machine Learning)": "AI and Machine Learning",
    "Analytics Platforms": "Analytics",
    "Business Intelligence": "Analytics",
    "Data Processing": "Analytics",
    "Search": "Analytics",
    "Streaming Analytics": "Analytics",
    "Other (Analytics)": "Analytics",
    "Productivity and Collaboration": "Business Applications",
    "Other (Business Applications)": "Business Applications",
    "Containers": "Compute",
    "End User Computing": "Compute",
    "Quantum Compute": "Compute",
    "Serverless Compute": "Compute",
    "Virtual Machines": "Compute",
    "Other (Compute)": "Compute",
    "Caching": "Databases",
    "Data Warehouses": "Databases",
    "Ledger Databases": "Databases",
    "NoSQL Databases": "Databases",
    "Relational Databases": "Databases",
    "Time Series Databases": "Databases",
    "Other (Databases)": "Databases",
    "Developer Platforms": "Developer Tools",
    "Continuous Integration and Deployment": "Developer Tools",
    "Development Environments": "Developer Tools",
    "Source Code Management": "Developer Tools",
    "Quality Assurance": "Developer Tools",
    "Other (Developer Tools)": "Developer Tools",
    "Identity and Access Management": "Identity",
    "Other (Identity)": "Identity",
    "API Management": "Integration",
    "Messaging": "Integration",
    "Workflow Orchestration": "Integration",
    "Other (Integration)": "Integration",
    "IoT Analytics": "Internet of Things",
    "IoT Platforms": "Internet of Things",
    "Other (Internet of Things)": "Internet of Things",
    "Architecture": "Management and Governance",
    "Compliance": "Management and Governance",
    "Cost Management": "Management and Governance",
    "Data Governance": "Management and Governance",
    "Disaster Recovery": "Management and Governance",
    "Endpoint Management": "Management and Governance",
    "Observability": "Management and Governance",
    "Support": "Management and Governance",
    "Other (Management and Governance)": "Management and Governance",
    "Content Creation": "Media",
    "Gaming": "Media",
    "Media Streaming": "Media",
    "Mixed Reality": "Media",
    "Other (Media)": "Media",
    "Data Migration": "Migration",
    "Resource Migration": "Migration",
    "Other (Migration)": "Migration",
    "Other (Mobile)": "Mobile",
    "Multicloud Integration": "Multicloud",
    "Other (Multicloud)": "Multicloud",
    "Application Networking": "Networking",
    "Content Delivery": "Networking",
    "Network Connectivity": "Networking",
    "Network Infrastructure": "Networking",
    "Network Routing": "Networking",
    "Network Security": "Networking",
    "Other (Networking)": "Networking",
    "Secret Management": "Security",
    "Security Posture Management": "Security",
    "Threat Detection and Response": "Security",
    "Other (Security)": "Security",
    "Backup Storage": "Storage",
    "Block Storage": "Storage",
    "File Storage": "Storage",
    "Object Storage": "Storage",
    "Storage Platforms": "Storage",
    "Other (Storage)": "Storage",
    "Application Platforms": "Web",
    "Other (Web)": "Web",
    "Other (Other)": "Other",
}
ALLOWED["ServiceSubcategory"] = frozenset(SUBCATEGORY_PARENT)

# fmt: off
FOCUS_1_2: list[Rule] = [
    # data types
    ("AvailabilityZone-C-001-M", "AvailabilityZone", "type", "string"),
    ("BilledCost-C-001-M", "BilledCost", "type", "decimal"),
    ("BillingAccountId-C-002-M", "BillingAccountId", "type", "string"),
    ("BillingAccountName-C-001-M", "BillingAccountName", "type", "string"),
    ("BillingAccountType-C-001-M", "BillingAccountType", "type", "string"),
    ("BillingCurrency-C-001-M", "BillingCurrency", "type", "string"),
    ("BillingPeriodEnd-C-001-M", "BillingPeriodEnd", "type", "datetime"),
    ("BillingPeriodStart-C-001-M", "BillingPeriodStart", "type", "datetime"),
    ("CapacityReservationId-C-001-M", "CapacityReservationId", "type", "string"),
    ("CapacityReservationStatus-C-001-M", "CapacityReservationStatus", "type", "string"),
    ("ChargeCategory-C-001-M", "ChargeCategory", "type", "string"),
    ("ChargeClass-C-001-M", "ChargeClass", "type", "string"),
    ("ChargeDescription-C-001-M", "ChargeDescription", "type", "string"),
    ("ChargeFrequency-C-001-M", "ChargeFrequency", "type", "string"),
    ("ChargePeriodEnd-C-001-M", "ChargePeriodEnd", "type", "datetime"),
    ("ChargePeriodStart-C-001-M", "ChargePeriodStart", "type", "datetime"),
    ("CommitmentDiscountCategory-C-001-M", "CommitmentDiscountCategory", "type", "string"),
    ("CommitmentDiscountId-C-001-M", "CommitmentDiscountId", "type", "string"),
    ("CommitmentDiscountName-C-001-M", "CommitmentDiscountName", "type", "string"),
    ("CommitmentDiscountQuantity-C-001-M", "CommitmentDiscountQuantity", "type", "decimal"),
    ("CommitmentDiscountStatus-C-001-M", "CommitmentDiscountStatus", "type", "string"),
    ("CommitmentDiscountType-C-001-M", "CommitmentDiscountType", "type", "string"),
    ("CommitmentDiscountUnit-C-001-M", "CommitmentDiscountUnit", "type", "string"),
    ("ConsumedQuantity-C-001-M", "ConsumedQuantity", "type", "decimal"),
    ("ConsumedUnit-C-001-M", "ConsumedUnit", "type", "string"),
    ("ContractedCost-C-001-M", "ContractedCost", "type", "decimal"),
    ("ContractedUnitPrice-C-002-M", "ContractedUnitPrice", "type", "decimal"),
    ("EffectiveCost-C-001-M", "EffectiveCost", "type", "decimal"),
    ("InvoiceId-C-001-M", "InvoiceId", "type", "string"),
    ("InvoiceIssuerName-C-001-M", "InvoiceIssuerName", "type", "string"),
    ("ListCost-C-001-M", "ListCost", "type", "decimal"),
    ("ListUnitPrice-C-001-M", "ListUnitPrice", "type", "decimal"),
    ("PricingCategory-C-001-M", "PricingCategory", "type", "string"),
    ("PricingCurrency-C-001-M", "PricingCurrency", "type", "string"),
    ("PricingCurrencyContractedUnitPrice-C-001-M", "PricingCurrencyContractedUnitPrice", "type", "decimal"),
    ("PricingCurrencyEffectiveCost-C-001-M", "PricingCurrencyEffectiveCost", "type", "decimal"),
    ("PricingCurrencyListUnitPrice-C-001-M", "PricingCurrencyListUnitPrice", "type", "decimal"),
    ("PricingQuantity-C-001-M", "PricingQuantity", "type", "decimal"),
    ("PricingUnit-C-001-M", "PricingUnit", "type", "string"),
    ("ProviderName-C-001-M", "ProviderName", "type", "string"),
    ("PublisherName-C-001-M", "PublisherName", "type", "string"),
    ("RegionId-C-001-M", "RegionId", "type", "string"),
    ("RegionName-C-001-M", "RegionName", "type", "string"),
    ("ResourceId-C-001-M", "ResourceId", "type", "string"),
    ("ResourceName-C-001-M", "ResourceName", "type", "string"),
    ("ResourceType-C-001-M", "ResourceType", "type", "string"),
    ("ServiceCategory-C-001-M", "ServiceCategory", "type", "string"),
    ("ServiceName-C-001-M", "ServiceName", "type", "string"),
    ("ServiceSubcategory-C-001-M", "ServiceSubcategory", "type", "string"),
    ("SkuId-C-001-M", "SkuId", "type", "string"),
    ("SkuMeter-C-001-M", "SkuMeter", "type", "string"),
    ("SkuPriceId-C-001-M", "SkuPriceId", "type", "string"),
    ("SubAccountId-C-001-M", "SubAccountId", "type", "string"),
    ("SubAccountName-C-001-M", "SubAccountName", "type", "string"),
    ("SubAccountType-C-001-M", "SubAccountType", "type", "string"),
    ("SkuPriceDetails-C-001-M", "SkuPriceDetails", "key_value", ""),
    ("Tags-C-001-M", "Tags", "key_value", ""),
    # attributes
    ("NullHandling-A-002-M", "*", "no_empty_strings", ""),
    ("CurrencyFormat-A-001-C", "BillingCurrency", "matches", "[A-Z]{3}"),
    ("PricingCurrency-C-003-M", "PricingCurrency", "matches", "[A-Z]{3}"),
    ("DiscountHandling-A-006-C", "CommitmentDiscountId", "not_null_when", "PricingCategory = 'Committed'"),
    ("DiscountHandling-A-009-C", "BilledCost", "holds", _if("ChargeCategory = 'Usage' AND CommitmentDiscountStatus = 'Used'", "BilledCost = 0")),
    ("DiscountHandling-A-012-C", "ResourceId", "holds", _if("ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT NULL", "ResourceId = CommitmentDiscountId")),
    # never null
    ("BilledCost-C-003-M", "BilledCost", "not_null", ""),
    ("BillingAccountId-C-001-M", "BillingAccountId", "not_null", ""),
    ("BillingAccountName-C-003-C", "BillingAccountName", "not_null", ""),
    ("BillingCurrency-C-004-M", "BillingCurrency", "not_null", ""),
    ("BillingPeriodEnd-C-003-M", "BillingPeriodEnd", "not_null", ""),
    ("BillingPeriodStart-C-003-M", "BillingPeriodStart", "not_null", ""),
    ("ChargeCategory-C-002-M", "ChargeCategory", "not_null", ""),
    ("ChargeDescription-C-003-O", "ChargeDescription", "not_null", ""),
    ("ChargeFrequency-C-002-M", "ChargeFrequency", "not_null", ""),
    ("ChargePeriodEnd-C-003-M", "ChargePeriodEnd", "not_null", ""),
    ("ChargePeriodStart-C-003-M", "ChargePeriodStart", "not_null", ""),
    ("ContractedCost-C-003-M", "ContractedCost", "not_null", ""),
    ("EffectiveCost-C-003-M", "EffectiveCost", "not_null", ""),
    ("InvoiceIssuerName-C-003-M", "InvoiceIssuerName", "not_null", ""),
    ("ListCost-C-003-M", "ListCost", "not_null", ""),
    ("PricingCurrency-C-004-M", "PricingCurrency", "not_null", ""),
    ("PricingCurrencyEffectiveCost-C-003-M", "PricingCurrencyEffectiveCost", "not_null", ""),
    ("ProviderName-C-003-M", "ProviderName", "not_null", ""),
    ("PublisherName-C-003-M", "PublisherName", "not_null", ""),
    ("ServiceCategory-C-002-M", "ServiceCategory", "not_null", ""),
    ("ServiceName-C-003-M", "ServiceName", "not_null", ""),
    ("ServiceSubcategory-C-002-M", "ServiceSubcategory", "not_null", ""),
    # allowed values
    ("CapacityReservationStatus-C-006-M", "CapacityReservationStatus", "one_of", "CapacityReservationStatus"),
    ("ChargeCategory-C-003-M", "ChargeCategory", "one_of", "ChargeCategory"),
    ("ChargeClass-C-005-C", "ChargeClass", "one_of", "ChargeClass"),
    ("ChargeFrequency-C-003-M", "ChargeFrequency", "one_of", "ChargeFrequency"),
    ("CommitmentDiscountCategory-C-005-M", "CommitmentDiscountCategory", "one_of", "CommitmentDiscountCategory"),
    ("CommitmentDiscountStatus-C-005-M", "CommitmentDiscountStatus", "one_of", "CommitmentDiscountStatus"),
    ("PricingCategory-C-007-M", "PricingCategory", "one_of", "PricingCategory"),
    ("ServiceCategory-C-003-M", "ServiceCategory", "one_of", "ServiceCategory"),
    ("ServiceSubcategory-C-003-M", "ServiceSubcategory", "one_of", "ServiceSubcategory"),
    ("ServiceSubcategory-C-004-M", "ServiceSubcategory", "parent", "ServiceCategory"),
    ("ServiceName-C-005-C", "ServiceCategory", "one_per", "ServiceName"),
    # nullability that follows another column
    ("BillingAccountType-C-004-C", "BillingAccountType", "null_when_null", "BillingAccountId"),
    ("BillingAccountType-C-005-C", "BillingAccountType", "not_null_when_not_null", "BillingAccountId"),
    ("CapacityReservationId-C-005-C", "CapacityReservationId", "not_null_when", "CapacityReservationStatus = 'Unused'"),
    ("CapacityReservationStatus-C-003-C", "CapacityReservationStatus", "null_when_null", "CapacityReservationId"),
    ("CapacityReservationStatus-C-004-C", "CapacityReservationStatus", "not_null_when", "CapacityReservationId IS NOT NULL AND ChargeCategory = 'Usage'"),
    ("CapacityReservationStatus-C-007-C", "CapacityReservationStatus", "holds", _if("ResourceId = CapacityReservationId", "CapacityReservationStatus = 'Unused'")),
    ("CapacityReservationStatus-C-008-C", "CapacityReservationStatus", "holds", _if("CapacityReservationId IS NOT NULL AND ChargeCategory = 'Usage' AND ResourceId IS DISTINCT FROM CapacityReservationId", "CapacityReservationStatus = 'Used'")),
    ("CommitmentDiscountCategory-C-003-C", "CommitmentDiscountCategory", "null_when_null", "CommitmentDiscountId"),
    ("CommitmentDiscountCategory-C-004-C", "CommitmentDiscountCategory", "not_null_when_not_null", "CommitmentDiscountId"),
    ("CommitmentDiscountName-C-004-C", "CommitmentDiscountName", "null_when_null", "CommitmentDiscountId"),
    ("CommitmentDiscountQuantity-C-005-C", "CommitmentDiscountQuantity", "not_null_when", f"CommitmentDiscountId IS NOT NULL AND {UP}"),
    ("CommitmentDiscountQuantity-C-007-C", "CommitmentDiscountQuantity", "null_when", "CommitmentDiscountId IS NULL OR ChargeCategory NOT IN ('Usage', 'Purchase')"),
    ("CommitmentDiscountStatus-C-003-C", "CommitmentDiscountStatus", "null_when_null", "CommitmentDiscountId"),
    ("CommitmentDiscountStatus-C-004-C", "CommitmentDiscountStatus", "not_null_when", "CommitmentDiscountId IS NOT NULL AND ChargeCategory = 'Usage'"),
    ("CommitmentDiscountType-C-004-C", "CommitmentDiscountType", "null_when_null", "CommitmentDiscountId"),
    ("CommitmentDiscountType-C-005-C", "CommitmentDiscountType", "not_null_when_not_null", "CommitmentDiscountId"),
    ("CommitmentDiscountUnit-C-005-C", "CommitmentDiscountUnit", "null_when_null", "CommitmentDiscountQuantity"),
    ("CommitmentDiscountUnit-C-006-C", "CommitmentDiscountUnit", "not_null_when_not_null", "CommitmentDiscountQuantity"),
    ("CommitmentDiscountUnit-C-008-M", "CommitmentDiscountUnit", "one_per", "CommitmentDiscountId"),
    ("ConsumedQuantity-C-004-C", "ConsumedQuantity", "null_when", "ChargeCategory <> 'Usage' OR CommitmentDiscountStatus = 'Unused'"),
    ("ConsumedQuantity-C-006-C", "ConsumedQuantity", "not_null_when", f"ChargeCategory = 'Usage' AND CommitmentDiscountStatus IS DISTINCT FROM 'Unused' AND {NOT_CORRECTION}"),
    ("ConsumedUnit-C-005-C", "ConsumedUnit", "null_when_null", "ConsumedQuantity"),
    ("ConsumedUnit-C-006-C", "ConsumedUnit", "not_null_when_not_null", "ConsumedQuantity"),
    ("ContractedUnitPrice-C-005-C", "ContractedUnitPrice", "null_when", TAX),
    ("ContractedUnitPrice-C-006-C", "ContractedUnitPrice", "not_null_when", UP),
    ("InvoiceId-C-004-C", "InvoiceId", "null_when", "BillingPeriodEnd > {now}"),
    ("InvoiceId-C-005-C", "InvoiceId", "not_null_when", "BillingPeriodEnd <= {now}"),
    ("ListUnitPrice-C-004-C", "ListUnitPrice", "null_when", TAX),
    ("ListUnitPrice-C-005-C", "ListUnitPrice", "not_null_when", UP),
    ("PricingCategory-C-003-C", "PricingCategory", "null_when", TAX),
    ("PricingCategory-C-004-C", "PricingCategory", "not_null_when", UP),
    ("PricingCategory-C-009-C", "PricingCategory", "holds", _if("CommitmentDiscountId IS NOT NULL AND ChargeCategory = 'Usage'", "PricingCategory = 'Committed'")),
    ("PricingCurrencyContractedUnitPrice-C-004-C", "PricingCurrencyContractedUnitPrice", "null_when", TAX),
    ("PricingCurrencyContractedUnitPrice-C-005-C", "PricingCurrencyContractedUnitPrice", "not_null_when", UP),
    ("PricingCurrencyListUnitPrice-C-004-C", "PricingCurrencyListUnitPrice", "null_when", TAX),
    ("PricingCurrencyListUnitPrice-C-005-C", "PricingCurrencyListUnitPrice", "not_null_when", UP),
    ("PricingQuantity-C-004-C", "PricingQuantity", "null_when", TAX),
    ("PricingQuantity-C-005-C", "PricingQuantity", "not_null_when", UP),
    ("PricingUnit-C-005-C", "PricingUnit", "null_when_null", "PricingQuantity"),
    ("PricingUnit-C-006-C", "PricingUnit", "not_null_when_not_null", "PricingQuantity"),
    ("RegionName-C-004-C", "RegionName", "null_when_null", "RegionId"),
    ("RegionName-C-005-C", "RegionName", "not_null_when_not_null", "RegionId"),
    ("ResourceName-C-004-C", "ResourceName", "null_when_null", "ResourceId"),
    ("ResourceType-C-004-C", "ResourceType", "null_when_null", "ResourceId"),
    ("ResourceType-C-005-C", "ResourceType", "not_null_when_not_null", "ResourceId"),
    ("SkuId-C-004-C", "SkuId", "null_when", TAX),
    ("SkuId-C-005-C", "SkuId", "not_null_when", UP),
    ("SkuMeter-C-004-C", "SkuMeter", "null_when_null", "SkuId"),
    ("SkuMeter-C-005-C", "SkuMeter", "not_null_when_not_null", "SkuId"),
    ("SkuMeter-C-006-O", "SkuMeter", "one_per", "SkuId"),
    ("SkuPriceDetails-C-004-C", "SkuPriceDetails", "null_when_null", "SkuPriceId"),
    ("SkuPriceId-C-004-C", "SkuPriceId", "null_when", TAX),
    ("SkuPriceId-C-005-C", "SkuPriceId", "not_null_when", UP),
    ("SkuPriceId-C-008-M", "SkuId", "one_per", "SkuPriceId"),
    ("SubAccountName-C-004-C", "SubAccountName", "null_when_null", "SubAccountId"),
    ("SubAccountName-C-005-C", "SubAccountName", "not_null_when_not_null", "SubAccountId"),
    ("SubAccountType-C-004-C", "SubAccountType", "null_when_null", "SubAccountId"),
    ("SubAccountType-C-005-C", "SubAccountType", "not_null_when_not_null", "SubAccountId"),
    # charges, periods and costs
    ("ChargeFrequency-C-004-C", "ChargeFrequency", "holds", _if("ChargeCategory = 'Purchase'", "ChargeFrequency <> 'Usage-Based'")),
    ("ChargePeriodEnd-C-004-M", "ChargePeriodEnd", "holds", "ChargePeriodStart < ChargePeriodEnd AND ChargePeriodEnd <= BillingPeriodEnd"),
    ("ChargePeriodStart-C-004-M", "ChargePeriodStart", "holds", "BillingPeriodStart <= ChargePeriodStart AND ChargePeriodStart < ChargePeriodEnd"),
    ("BillingPeriodStart-C-004-M", "BillingPeriodStart", "holds", "BillingPeriodStart = date_trunc('month', BillingPeriodStart)"),
    ("BillingPeriodEnd-C-004-M", "BillingPeriodEnd", "holds", "BillingPeriodEnd = BillingPeriodStart + INTERVAL 1 MONTH"),
    ("BilledCost-C-005-C", "BilledCost", "holds", _if("InvoiceIssuerName NOT LIKE 'Amazon Web Services%'", "BilledCost = 0")),
    ("ContractedCost-C-008-C", "ContractedCost", "holds", _if("ChargeCategory = 'Credit' AND ContractedUnitPrice IS NULL", _equal("ContractedCost", "BilledCost"))),
    ("ContractedCost-C-009-C", "ContractedCost", "holds", _times("ContractedUnitPrice", "ContractedCost")),
    ("ContractedUnitPrice-C-009-C", "ContractedUnitPrice", "non_negative", ""),
    ("ContractedUnitPrice-C-011-C", "ContractedUnitPrice", "holds", _times("ContractedUnitPrice", "ContractedCost")),
    ("EffectiveCost-C-005-C", "EffectiveCost", "holds", _if(FUTURE_PURCHASE, "EffectiveCost = 0")),
    ("EffectiveCost-C-010-C", "EffectiveCost", "holds", _if("ChargeCategory = 'Credit'", _equal("EffectiveCost", "BilledCost"))),
    ("ListCost-C-008-C", "ListCost", "holds", _if("ChargeCategory = 'Credit' AND ListUnitPrice IS NULL", _equal("ListCost", "BilledCost"))),
    ("ListCost-C-009-C", "ListCost", "holds", _times("ListUnitPrice", "ListCost")),
    ("ListUnitPrice-C-008-M", "ListUnitPrice", "non_negative", ""),
    ("ListUnitPrice-C-010-C", "ListUnitPrice", "holds", _times("ListUnitPrice", "ListCost")),
    ("PricingCurrencyContractedUnitPrice-C-008-C", "PricingCurrencyContractedUnitPrice", "non_negative", ""),
    ("PricingCurrencyListUnitPrice-C-008-M", "PricingCurrencyListUnitPrice", "non_negative", ""),
    ("PricingCurrencyEffectiveCost-C-005-M", "PricingCurrencyEffectiveCost", "holds", _if(FUTURE_PURCHASE, "PricingCurrencyEffectiveCost = 0")),
    ("PricingQuantity-C-009-C", "PricingQuantity", "holds", f"({_times('ListUnitPrice', 'ListCost')}) AND ({_times('ContractedUnitPrice', 'ContractedCost')})"),
]
# fmt: on

_STRING_1_0 = (
    "AvailabilityZone",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedUnit",
    "InvoiceIssuerName",
    "PricingCategory",
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
)
_DECIMAL_1_0 = (
    "BilledCost",
    "ConsumedQuantity",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "ListCost",
    "ListUnitPrice",
    "PricingQuantity",
)
_DATETIME_1_0 = (
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargePeriodEnd",
    "ChargePeriodStart",
)

# fmt: off
FOCUS_1_0: list[Rule] = [
    # "This column MUST be of type String / Decimal / Date/Time" (one rule per column)
    *((f"1.0:{c}:type", c, "type", "string") for c in _STRING_1_0),
    *((f"1.0:{c}:type", c, "type", "decimal") for c in _DECIMAL_1_0),
    *((f"1.0:{c}:type", c, "type", "datetime") for c in _DATETIME_1_0),
    ("1.0:Tags:key-value-format", "Tags", "key_value", ""),
    # attributes
    ("1.0:NullHandling:no-empty-strings", "*", "no_empty_strings", ""),
    ("1.0:BillingCurrency:currency-code-format", "BillingCurrency", "matches", "[A-Z]{3}"),
    ("1.0:DiscountHandling:commitment-rows-have-id", "CommitmentDiscountId", "not_null_when", "PricingCategory = 'Committed'"),
    ("1.0:DiscountHandling:covered-billed-zero", "BilledCost", "holds", _if("ChargeCategory = 'Usage' AND CommitmentDiscountStatus = 'Used'", "BilledCost = 0")),
    ("1.0:DiscountHandling:purchase-resource-is-commitment", "ResourceId", "holds", _if("ChargeCategory = 'Purchase' AND CommitmentDiscountId IS NOT NULL", "ResourceId = CommitmentDiscountId")),
    # MUST NOT be null / MUST NOT contain null values
    ("1.0:BilledCost:not-null", "BilledCost", "not_null", ""),
    ("1.0:BillingAccountId:not-null", "BillingAccountId", "not_null", ""),
    ("1.0:BillingAccountName:not-null", "BillingAccountName", "not_null", ""),
    ("1.0:BillingCurrency:not-null", "BillingCurrency", "not_null", ""),
    ("1.0:BillingPeriodEnd:not-null", "BillingPeriodEnd", "not_null", ""),
    ("1.0:BillingPeriodStart:not-null", "BillingPeriodStart", "not_null", ""),
    ("1.0:ChargeCategory:not-null", "ChargeCategory", "not_null", ""),
    ("1.0:ChargeDescription:should-not-be-null", "ChargeDescription", "not_null", ""),
    ("1.0:ChargeFrequency:not-null", "ChargeFrequency", "not_null", ""),
    ("1.0:ChargePeriodEnd:not-null", "ChargePeriodEnd", "not_null", ""),
    ("1.0:ChargePeriodStart:not-null", "ChargePeriodStart", "not_null", ""),
    ("1.0:ContractedCost:not-null", "ContractedCost", "not_null", ""),
    ("1.0:EffectiveCost:not-null", "EffectiveCost", "not_null", ""),
    ("1.0:InvoiceIssuerName:not-null", "InvoiceIssuerName", "not_null", ""),
    ("1.0:ListCost:not-null", "ListCost", "not_null", ""),
    ("1.0:ProviderName:not-null", "ProviderName", "not_null", ""),
    ("1.0:PublisherName:not-null", "PublisherName", "not_null", ""),
    ("1.0:ServiceCategory:not-null", "ServiceCategory", "not_null", ""),
    ("1.0:ServiceName:not-null", "ServiceName", "not_null", ""),
    # allowed values
    ("1.0:ChargeCategory:allowed-values", "ChargeCategory", "one_of", "ChargeCategory"),
    ("1.0:ChargeClass:correction", "ChargeClass", "one_of", "ChargeClass"),
    ("1.0:ChargeFrequency:allowed-values", "ChargeFrequency", "one_of", "ChargeFrequency"),
    ("1.0:CommitmentDiscountCategory:allowed-values", "CommitmentDiscountCategory", "one_of", "CommitmentDiscountCategory"),
    ("1.0:CommitmentDiscountStatus:allowed-values", "CommitmentDiscountStatus", "one_of", "CommitmentDiscountStatus"),
    ("1.0:PricingCategory:allowed-values", "PricingCategory", "one_of", "PricingCategory"),
    ("1.0:ServiceCategory:allowed-values", "ServiceCategory", "one_of", "ServiceCategory"),
    # nullability
    ("1.0:CommitmentDiscountCategory:null-without-id", "CommitmentDiscountCategory", "null_when_null", "CommitmentDiscountId"),
    ("1.0:CommitmentDiscountCategory:not-null-with-id", "CommitmentDiscountCategory", "not_null_when_not_null", "CommitmentDiscountId"),
    ("1.0:CommitmentDiscountName:null-without-id", "CommitmentDiscountName", "null_when_null", "CommitmentDiscountId"),
    ("1.0:CommitmentDiscountStatus:null-without-id", "CommitmentDiscountStatus", "null_when_null", "CommitmentDiscountId"),
    ("1.0:CommitmentDiscountStatus:not-null-on-usage-with-id", "CommitmentDiscountStatus", "not_null_when", "CommitmentDiscountId IS NOT NULL AND ChargeCategory = 'Usage'"),
    ("1.0:CommitmentDiscountType:null-without-id", "CommitmentDiscountType", "null_when_null", "CommitmentDiscountId"),
    ("1.0:CommitmentDiscountType:not-null-with-id", "CommitmentDiscountType", "not_null_when_not_null", "CommitmentDiscountId"),
    ("1.0:ConsumedQuantity:not-null-on-usage", "ConsumedQuantity", "not_null_when", f"ChargeCategory = 'Usage' AND {NOT_CORRECTION}"),
    ("1.0:ConsumedQuantity:null-otherwise", "ConsumedQuantity", "null_when", "ChargeCategory <> 'Usage'"),
    ("1.0:ConsumedUnit:not-null-on-usage", "ConsumedUnit", "not_null_when", f"ChargeCategory = 'Usage' AND {NOT_CORRECTION}"),
    ("1.0:ConsumedUnit:null-otherwise", "ConsumedUnit", "null_when", "ChargeCategory <> 'Usage'"),
    ("1.0:ContractedUnitPrice:null-on-tax", "ContractedUnitPrice", "null_when", TAX),
    ("1.0:ContractedUnitPrice:not-null-on-usage-purchase", "ContractedUnitPrice", "not_null_when", UP),
    ("1.0:ListUnitPrice:null-on-tax", "ListUnitPrice", "null_when", TAX),
    ("1.0:ListUnitPrice:not-null-on-usage-purchase", "ListUnitPrice", "not_null_when", UP),
    ("1.0:PricingCategory:null-on-tax", "PricingCategory", "null_when", TAX),
    ("1.0:PricingCategory:not-null-on-usage-purchase", "PricingCategory", "not_null_when", UP),
    ("1.0:PricingCategory:committed-with-id", "PricingCategory", "holds", _if("CommitmentDiscountId IS NOT NULL", "PricingCategory = 'Committed'")),
    ("1.0:PricingQuantity:null-on-tax", "PricingQuantity", "null_when", TAX),
    ("1.0:PricingQuantity:not-null-on-usage-purchase", "PricingQuantity", "not_null_when", UP),
    ("1.0:PricingUnit:null-on-tax", "PricingUnit", "null_when", TAX),
    ("1.0:PricingUnit:not-null-on-usage-purchase", "PricingUnit", "not_null_when", UP),
    ("1.0:RegionName:not-null-in-region", "RegionName", "not_null_when_not_null", "RegionId"),
    ("1.0:ResourceType:null-without-resource", "ResourceType", "null_when_null", "ResourceId"),
    ("1.0:ResourceType:not-null-with-resource", "ResourceType", "not_null_when_not_null", "ResourceId"),
    ("1.0:SkuId:null-on-tax", "SkuId", "null_when", TAX),
    ("1.0:SkuId:not-null-on-usage-purchase", "SkuId", "not_null_when", UP),
    ("1.0:SkuPriceId:null-on-tax", "SkuPriceId", "null_when", TAX),
    ("1.0:SkuPriceId:not-null-on-usage-purchase", "SkuPriceId", "not_null_when", UP),
    ("1.0:SkuPriceId:one-sku", "SkuId", "one_per", "SkuPriceId"),
    ("1.0:SubAccountName:null-without-sub-account", "SubAccountName", "null_when_null", "SubAccountId"),
    # charges, periods and costs
    ("1.0:ChargeFrequency:purchase-not-usage-based", "ChargeFrequency", "holds", _if("ChargeCategory = 'Purchase'", "ChargeFrequency <> 'Usage-Based'")),
    ("1.0:ChargePeriodStart:inclusive-start", "ChargePeriodStart", "holds", "BillingPeriodStart <= ChargePeriodStart AND ChargePeriodStart < ChargePeriodEnd"),
    ("1.0:ChargePeriodEnd:exclusive-end", "ChargePeriodEnd", "holds", "ChargePeriodStart < ChargePeriodEnd AND ChargePeriodEnd <= BillingPeriodEnd"),
    ("1.0:BillingPeriodStart:inclusive-start", "BillingPeriodStart", "holds", "BillingPeriodStart = date_trunc('month', BillingPeriodStart)"),
    ("1.0:BillingPeriodEnd:exclusive-end", "BillingPeriodEnd", "holds", "BillingPeriodEnd = BillingPeriodStart + INTERVAL 1 MONTH"),
    ("1.0:ContractedCost:credit-matches-billed", "ContractedCost", "holds", _if("ChargeCategory = 'Credit'", _equal("ContractedCost", "BilledCost"))),
    ("1.0:ContractedCost:unit-price-times-quantity", "ContractedCost", "holds", _times("ContractedUnitPrice", "ContractedCost")),
    ("1.0:ContractedUnitPrice:non-negative", "ContractedUnitPrice", "non_negative", ""),
    ("1.0:EffectiveCost:zero-for-future-purchase", "EffectiveCost", "holds", _if(FUTURE_PURCHASE, "EffectiveCost = 0")),
    ("1.0:EffectiveCost:credit-matches-billed", "EffectiveCost", "holds", _if("ChargeCategory = 'Credit'", _equal("EffectiveCost", "BilledCost"))),
    ("1.0:ListCost:credit-matches-billed", "ListCost", "holds", _if("ChargeCategory = 'Credit'", _equal("ListCost", "BilledCost"))),
    ("1.0:ListCost:unit-price-times-quantity", "ListCost", "holds", _times("ListUnitPrice", "ListCost")),
    ("1.0:ListUnitPrice:non-negative", "ListUnitPrice", "non_negative", ""),
]
# fmt: on


@dataclass(frozen=True)
class Deviation:
    """Where a rule does not hold in what AWS delivers, and why.

    `rows` is the SQL condition that picks exactly the violating rows (AWS's gap as this
    emulator reproduces it); `delivered_type` is, for a type rule, the type delivered instead.
    """

    reason: str
    source: str
    rows: str = ""
    delivered_type: str = ""


AWS_GAPS_1_2 = "https://docs.aws.amazon.com/cur/latest/userguide/table-dictionary-focus-1-2-aws-conformance.html"
AWS_GAPS_1_0 = "https://docs.aws.amazon.com/cur/latest/userguide/table-dictionary-focus-1-0-aws-conformance.html"
AWS_COLUMNS_1_2 = (
    "https://docs.aws.amazon.com/cur/latest/userguide/table-dictionary-focus-1-2-aws-columns.html"
)
AWS_COLUMNS_1_0 = (
    "https://docs.aws.amazon.com/cur/latest/userguide/table-dictionary-focus-1-0-aws-columns.html"
)

# the fees that are not priced per unit: AWS Support and reservation fees (RIFee and the
# upfront Fee), whose list and contracted unit prices are null
UNPRICED_FEES = (
    "ChargeCategory = 'Purchase' AND "
    "(x_ServiceCode = 'AWSSupportBusiness' OR CommitmentDiscountType = 'Reserved Instance')"
)
# the AWS Support fee has no SKU
SUPPORT_FEE = "ChargeCategory = 'Purchase' AND x_ServiceCode = 'AWSSupportBusiness'"


def _gap(column: str, page: str, rows: str, what: str) -> Deviation:
    return Deviation(
        reason=f"{column} is null on {what}",
        source=f"{page}: Missing data, {column}: '{column} might be null for certain product "
        "offerings' (requirement: not null for Usage and Purchase line items that are not "
        "corrections)",
        rows=rows,
    )


def _map(column: str, page: str) -> Deviation:
    return Deviation(
        reason=f"{column} is a Parquet map<string,string>, not a serialized JSON string",
        source=f"{page}: {column} is typed map<string,string> in AWS's column dictionary",
        delivered_type="map<string,string>",
    )


_FEES = "the Support fee and the reservation fees (RIFee, upfront Fee)"

DEVIATIONS_1_2: dict[str, Deviation] = {
    "ContractedUnitPrice-C-006-C": _gap("ContractedUnitPrice", AWS_GAPS_1_2, UNPRICED_FEES, _FEES),
    "ListUnitPrice-C-005-C": _gap("ListUnitPrice", AWS_GAPS_1_2, UNPRICED_FEES, _FEES),
    # the pricing-currency prices are the billing-currency prices (USD): the same gap
    "PricingCurrencyContractedUnitPrice-C-005-C": _gap(
        "ContractedUnitPrice", AWS_GAPS_1_2, UNPRICED_FEES, _FEES + " (= ContractedUnitPrice)"
    ),
    "PricingCurrencyListUnitPrice-C-005-C": _gap(
        "ListUnitPrice", AWS_GAPS_1_2, UNPRICED_FEES, _FEES + " (= ListUnitPrice)"
    ),
    "SkuId-C-005-C": _gap("SkuId", AWS_GAPS_1_2, SUPPORT_FEE, "the Support fee"),
    "SkuPriceId-C-005-C": _gap("SkuPriceId", AWS_GAPS_1_2, SUPPORT_FEE, "the Support fee"),
    "SkuPriceDetails-C-001-M": _map("SkuPriceDetails", AWS_COLUMNS_1_2),
    "Tags-C-001-M": _map("Tags", AWS_COLUMNS_1_2),
}

DEVIATIONS_1_0: dict[str, Deviation] = {
    "1.0:ContractedUnitPrice:not-null-on-usage-purchase": _gap(
        "ContractedUnitPrice", AWS_GAPS_1_0, UNPRICED_FEES, _FEES
    ),
    "1.0:ListUnitPrice:not-null-on-usage-purchase": _gap(
        "ListUnitPrice", AWS_GAPS_1_0, UNPRICED_FEES, _FEES
    ),
    "1.0:SkuId:not-null-on-usage-purchase": _gap(
        "SkuId", AWS_GAPS_1_0, SUPPORT_FEE, "the Support fee"
    ),
    "1.0:SkuPriceId:not-null-on-usage-purchase": _gap(
        "SkuPriceId", AWS_GAPS_1_0, SUPPORT_FEE, "the Support fee"
    ),
    "1.0:Tags:key-value-format": _map("Tags", AWS_COLUMNS_1_0),
}

# Violations that are this emulator's, not AWS's (AWS documents no such gap): found by this
# suite, reported, and not fixed here (issue 17 fixes the five defects it lists; these change
# other delivered values). Source: the rule itself.
_OURS = "bcm-local: not an AWS gap (AWS's conformance page lists none for this column); open"
# violations of ours: none open (PricingCategory of purchases and ServiceSubcategory values
# and parents were fixed at their source; docs/focus-conformance.md lists them)
OPEN_DEFECTS_1_2: dict[str, Deviation] = {}
OPEN_DEFECTS_1_0: dict[str, Deviation] = {}
