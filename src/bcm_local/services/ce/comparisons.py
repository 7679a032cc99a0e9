"""GetCostAndUsageComparisons and GetCostComparisonDrivers: one metric of two whole
calendar months compared (billing/queries/comparisons.py and drivers.py), paged by
paging.Pager.

Each call checks, in order: the billing view, the two months (each exactly one calendar
month, within the last 13, not after the current one), the metric, the groups, the
filter, the page token; then reads the bill (DataUnavailableException for a month
before its first). MaxResults defaults to its largest value, capped by
BCM_LOCAL_CE_PAGE_SIZE.
"""

from __future__ import annotations

from typing import Any

from bcm_local.billing.expressions import filters
from bcm_local.billing.queries import comparisons, costs, drivers
from bcm_local.billing.queries.comparisons import Months
from bcm_local.billing.queries.costs import GroupKey
from bcm_local.runtime import Context
from bcm_local.services.ce import bills
from bcm_local.services.ce.paging import Pager
from bcm_local.services.registry import Handler

Result = dict[str, Any]
COMPARISONS_MAX = 2000  # GetCostAndUsageComparisons MaxResults upper limit
DRIVERS_MAX = 10  # GetCostComparisonDrivers MaxResults upper limit


class Request:
    """One comparison request, checked; `bill` is read last."""

    def __init__(self, ctx: Context, operation: str, params: dict[str, Any], most: int) -> None:
        now = ctx.clock.now()
        self.months: Months = comparisons.months_of(
            params["BaselineTimePeriod"], params["ComparisonTimePeriod"], now
        )
        self.metric = comparisons.metric_name(params.get("MetricForComparison"))
        self.groups: list[GroupKey] = costs.group_keys(params.get("GroupBy"))
        self.where = bills.scoped(
            ctx, params.get("BillingViewArn"), filters.condition(params.get("Filter"))
        )
        size = params.get("MaxResults") or min(most, int(ctx.config.ce_page_size))
        self.pager = Pager(
            ctx.store,
            operation,
            ctx.account_id,
            {k: v for k, v in params.items() if k != "NextPageToken"},
            size,
        )
        self.token = params.get("NextPageToken")
        self.pager.offset(self.token)  # a bad token fails before any work
        self.bill = bills.for_call(ctx)
        bills.available(self.bill, self.months.baseline, now)
        bills.available(self.bill, self.months.comparison, now)

    def page(self, items: list[Any], member: str) -> Result:
        return self.pager.answer(member, items, self.token)


def get_cost_and_usage_comparisons(ctx: Context, **params: Any) -> Result:
    q = Request(ctx, "GetCostAndUsageComparisons", params, COMPARISONS_MAX)
    found, total = comparisons.comparisons(q.bill, q.months, q.metric, q.groups, q.where)
    result = q.page(found, "CostAndUsageComparisons")
    result["TotalCostAndUsage"] = total
    return result


def get_cost_comparison_drivers(ctx: Context, **params: Any) -> Result:
    q = Request(ctx, "GetCostComparisonDrivers", params, DRIVERS_MAX)
    found = drivers.drivers(q.bill, q.months, q.metric, q.groups, q.where)
    return q.page(found, "CostComparisonDrivers")


OPERATIONS: dict[str, Handler] = {
    "GetCostAndUsageComparisons": get_cost_and_usage_comparisons,
    "GetCostComparisonDrivers": get_cost_comparison_drivers,
}
