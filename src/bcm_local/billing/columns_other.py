"""Columns of COST_OPTIMIZATION_RECOMMENDATIONS, COST_AND_USAGE_DASHBOARD and
CARBON_EMISSIONS: name, AWS type, condition (always ""), description."""

from __future__ import annotations

s, d, t, i, b = "string", "double", "timestamp", "int", "boolean"
ms = "map<string,string>"

RECOMMENDATION_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("account_id", s, "", "Account the recommendation is for."),
    (
        "action_type",
        s,
        "",
        "Recommended action: Rightsize, Stop, Upgrade, PurchaseSavingsPlans, ...",
    ),
    ("currency_code", s, "", "Currency of the cost estimates."),
    ("current_resource_details", s, "", "JSON details of the resource as it is today."),
    ("current_resource_summary", s, "", "Short description of the current resource."),
    ("current_resource_type", s, "", "Kind of the current resource."),
    (
        "estimated_monthly_cost_after_discount",
        d,
        "",
        "Monthly cost after the action, net of discounts.",
    ),
    (
        "estimated_monthly_cost_before_discount",
        d,
        "",
        "Monthly cost after the action, at list prices.",
    ),
    ("estimated_monthly_savings_after_discount", d, "", "Monthly savings, net of discounts."),
    ("estimated_monthly_savings_before_discount", d, "", "Monthly savings at list prices."),
    (
        "estimated_savings_percentage_after_discount",
        d,
        "",
        "Savings as a share of the current cost, net.",
    ),
    (
        "estimated_savings_percentage_before_discount",
        d,
        "",
        "Savings as a share of the current cost, list.",
    ),
    ("implementation_effort", s, "", "VeryLow, Low, Medium, High or VeryHigh."),
    ("last_refresh_timestamp", t, "", "When the recommendation was last refreshed."),
    ("recommendation_id", s, "", "Identifier of the recommendation."),
    (
        "recommendation_lookback_period_in_days",
        i,
        "",
        "Days of usage the recommendation considered.",
    ),
    ("recommendation_source", s, "", "Service that produced the recommendation."),
    ("recommended_resource_details", s, "", "JSON details of the recommended resource."),
    ("recommended_resource_summary", s, "", "Short description of the recommended resource."),
    ("recommended_resource_type", s, "", "Kind of the recommended resource."),
    ("region", s, "", "Region of the resource."),
    ("resource_arn", s, "", "ARN of the resource."),
    ("restart_needed", b, "", "Whether the action needs a restart."),
    ("rollback_possible", b, "", "Whether the action can be rolled back."),
    ("tags", ms, "", "Tags of the resource."),
)

DASHBOARD_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("amortized_cost", d, "", "Cost with upfront and recurring commitment fees spread over usage."),
    ("availability_zone", s, "", "Availability zone of the usage."),
    ("billing_entity", s, "", "AWS or AWS Marketplace."),
    ("billing_period", t, "", "Start of the billing period."),
    ("charge_category", s, "", "Running_usage for usage line items, Non_Usage otherwise."),
    ("charge_type", s, "", "Line item type."),
    ("current_generation", s, "", "Whether the instance type is of the current generation."),
    ("database_engine", s, "", "Database engine of the instance, e.g. PostgreSQL or Oracle."),
    ("instance_type", s, "", "Instance type."),
    ("instance_type_family", s, "", "Instance family."),
    ("legal_entity", s, "", "Seller of record."),
    ("line_item_description", s, "", "Description of the charge."),
    ("linked_account_id", s, "", "Account that used the resource."),
    ("linked_account_name", s, "", "Name of the account that used the resource."),
    ("net_amortized_cost", d, "", "Amortized cost after discounts."),
    ("net_unblended_cost", d, "", "Unblended cost after discounts."),
    ("operation", s, "", "AWS operation."),
    ("payer_account_id", s, "", "Paying account."),
    ("payer_account_name", s, "", "Name of the paying account."),
    ("pricing_unit", s, "", "Unit of the usage."),
    ("product_code", s, "", "Code of the product."),
    ("product_family", s, "", "Product family."),
    ("product_name", s, "", "Display name of the service."),
    ("public_cost", d, "", "Cost at public on-demand prices."),
    ("purchase_option", s, "", "On Demand, Savings Plans, Reserved or Spot."),
    ("region", s, "", "Region code."),
    ("ri_sp_arn", s, "", "ARN of the Savings Plan or reservation that covers the usage."),
    ("unblended_cost", d, "", "Unblended cost."),
    ("usage_date", t, "", "Day of the usage."),
    ("usage_quantity", d, "", "Amount of usage."),
    ("usage_type", s, "", "Usage type."),
)

CARBON_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("last_refresh_timestamp", t, "", "When the estimate was last refreshed."),
    ("location", s, "", "Geographic location of the emissions."),
    ("model_version", s, "", "Version of the estimation model."),
    ("payer_account_id", s, "", "Paying account."),
    ("product_code", s, "", "Code of the product."),
    ("region_code", s, "", "Region code."),
    ("total_mbm_emissions_unit", s, "", "Unit of the market-based emissions (MTCO2e)."),
    ("total_mbm_emissions_value", d, "", "Market-based emissions."),
    ("usage_account_id", s, "", "Account that used the resources."),
    ("usage_period_end", t, "", "Exclusive end of the period."),
    ("usage_period_start", t, "", "Inclusive start of the period."),
)
