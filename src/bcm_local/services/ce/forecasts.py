"""GetCostForecast, GetUsageForecast and GetApproximateUsageRecords: what the bill's own
history says of the days to come, and how many records it holds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bcm_local.billing.expressions import filters
from bcm_local.billing.queries import forecast, records
from bcm_local.billing.queries.timespan import Span, invalid, stamp
from bcm_local.billing.scenario.periods import add_months, month_start
from bcm_local.runtime import Context
from bcm_local.services.ce import answers, bills
from bcm_local.services.registry import Handler
from bcm_local.wire.errors import AwsError
from bcm_local.wire.model import Serialized

# the forecast's Metric enum -> the facts' metric
METRICS = {
    "AMORTIZED_COST": "AmortizedCost",
    "BLENDED_COST": "BlendedCost",
    "NET_AMORTIZED_COST": "NetAmortizedCost",
    "NET_UNBLENDED_COST": "NetUnblendedCost",
    "UNBLENDED_COST": "UnblendedCost",
    "USAGE_QUANTITY": "UsageQuantity",
    "NORMALIZED_USAGE_AMOUNT": "NormalizedUsageAmount",
}
USAGE_METRICS = ("USAGE_QUANTITY", "NORMALIZED_USAGE_AMOUNT")
# the Filter dimensions each forecast accepts (the operation's documentation)
COST_FILTER_DIMENSIONS = [
    "AZ",
    "INSTANCE_TYPE",
    "LINKED_ACCOUNT",
    "OPERATION",
    "PURCHASE_TYPE",
    "REGION",
    "SERVICE",
    "USAGE_TYPE",
    "USAGE_TYPE_GROUP",
    "RECORD_TYPE",
    "OPERATING_SYSTEM",
    "TENANCY",
    "SCOPE",
    "PLATFORM",
    "SUBSCRIPTION_ID",
    "LEGAL_ENTITY_NAME",
    "DEPLOYMENT_OPTION",
    "DATABASE_ENGINE",
    "INSTANCE_TYPE_FAMILY",
    "BILLING_ENTITY",
    "RESERVATION_ID",
    "SAVINGS_PLAN_ARN",
]
USAGE_FILTER_DIMENSIONS = [*COST_FILTER_DIMENSIONS, "LINKED_ACCOUNT_NAME"]
AHEAD_MONTHS = {"DAILY": 3, "MONTHLY": 18}  # how far a forecast may reach


def _today(ctx: Context) -> datetime:
    return ctx.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)


def _reach(today: datetime, granularity: str) -> datetime:
    """The latest End: the same day 3 months on (DAILY), the 1st 18 months on (MONTHLY)."""
    months = AHEAD_MONTHS[granularity]
    if granularity == "MONTHLY":
        return add_months(month_start(today), months)
    target = add_months(today, months)
    last_day = (add_months(target, 1) - timedelta(days=1)).day
    return target.replace(day=min(today.day, last_day))


def _forecast(ctx: Context, operation: str, params: dict[str, Any], usage: bool) -> Serialized:
    metric, granularity = params["Metric"], params["Granularity"]
    if (metric in USAGE_METRICS) != usage:
        allowed = USAGE_METRICS if usage else [m for m in METRICS if m not in USAGE_METRICS]
        raise invalid(f"{operation} supports the metrics {', '.join(allowed)}, not {metric}.")
    if granularity not in AHEAD_MONTHS:
        raise invalid(f"{operation} supports only DAILY and MONTHLY granularities.")
    span = Span.of(params["TimePeriod"])
    today = _today(ctx)
    if span.start < today:
        raise invalid(
            f"Start date must be equal to or later than the current date ({stamp(today, 'DAILY')})."
        )
    reach = _reach(today, granularity)
    if span.end > reach:
        raise invalid(
            f"{granularity} forecasts reach {AHEAD_MONTHS[granularity]} months ahead: "
            f"End must be on or before {stamp(reach, 'DAILY')}."
        )
    allowed = USAGE_FILTER_DIMENSIONS if usage else COST_FILTER_DIMENSIONS
    where = filters.condition(params.get("Filter"), allowed)
    where = bills.scoped(ctx, params.get("BillingViewArn"), where)
    bill = bills.for_call(ctx)

    def compute() -> dict[str, Any]:
        column = METRICS[metric]
        origin, ys, units = forecast.history(bill, column, where, today)
        unit = "USD"
        if usage:
            if len(units) > 1:
                raise AwsError(
                    "UnresolvableUsageUnitException",
                    "Cannot resolve a usage unit: the filtered lines are measured in "
                    f"{', '.join(units)}. Filter by USAGE_TYPE or USAGE_TYPE_GROUP.",
                )
            unit = units[0] if units else "N/A"
        fitted = forecast.fit(origin, ys)
        return forecast.forecast(
            fitted, span, granularity, params.get("PredictionIntervalLevel"), unit
        )

    return answers.answer(ctx, bill, operation, params, compute, where)


def get_cost_forecast(ctx: Context, **params: Any) -> Serialized:
    return _forecast(ctx, "GetCostForecast", params, usage=False)


def get_usage_forecast(ctx: Context, **params: Any) -> Serialized:
    return _forecast(ctx, "GetUsageForecast", params, usage=True)


def get_approximate_usage_records(ctx: Context, **params: Any) -> Serialized:
    granularity, dimension = params["Granularity"], params["ApproximationDimension"]
    if dimension == "RESOURCE" and granularity == "MONTHLY":
        raise invalid("Resource-level data is available at DAILY and HOURLY granularity.")
    bills.throttle(ctx)
    # hourly records are counted on the hourly facts whether or not hourly data is on:
    # this is the call that tells what turning it on would bring
    cache = bills.HOURLY if granularity == "HOURLY" else bills.DAILY
    bill = cache.get(ctx.runtime, ctx.account_id)[0]
    services = params.get("Services") or None
    today = _today(ctx)

    def compute() -> dict[str, Any]:
        return records.usage_records(bill, granularity, dimension == "RESOURCE", services, today)

    return answers.answer(ctx, bill, "GetApproximateUsageRecords", params, compute)


OPERATIONS: dict[str, Handler] = {
    "GetCostForecast": get_cost_forecast,
    "GetUsageForecast": get_usage_forecast,
    "GetApproximateUsageRecords": get_approximate_usage_records,
}
