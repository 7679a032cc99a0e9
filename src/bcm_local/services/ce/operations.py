"""The `ce` operations: one function per AWS operation, registered in OPERATIONS.

Input is already validated against the model. Each call reads the account's bill
(bills.for_call), checks the interval against it and answers one aggregation of
billing/queries, paged by paging.Pager.
"""

from __future__ import annotations

from typing import Any

from bcm_local.billing.expressions import filters
from bcm_local.billing.queries import costs, values
from bcm_local.billing.queries.facts import Facts
from bcm_local.billing.queries.timespan import Span, invalid, recent
from bcm_local.runtime import Context
from bcm_local.services.ce import (
    allocation_tags,
    anomalies,
    anomaly_monitors,
    anomaly_subscriptions,
    answers,
    bills,
    comparisons,
    cost_categories,
    forecasts,
    resource_tags,
)
from bcm_local.services.ce.commitments import (
    analyses,
    purchases,
    reservations,
    rightsizing,
    savings_plans,
)
from bcm_local.services.ce.paging import Pager
from bcm_local.services.registry import Handler
from bcm_local.wire.model import Serialized

Result = dict[str, Any]
VALUES_MAX = 1000  # GetDimensionValues / GetTags MaxResults upper limit


def _pager(ctx: Context, operation: str, params: dict[str, Any], size: int | None = None) -> Pager:
    return Pager(
        ctx.store,
        operation,
        ctx.account_id,
        {k: v for k, v in params.items() if k != "NextPageToken"},
        size or int(ctx.config.ce_page_size),
    )


def _cost_results(
    ctx: Context, operation: str, params: dict[str, Any], resources: bool
) -> Serialized:
    granularity = params["Granularity"]
    if resources and granularity not in ("DAILY", "HOURLY"):
        raise invalid("GetCostAndUsageWithResources supports DAILY and HOURLY granularity.")
    span = Span.of(params["TimePeriod"], granularity)
    metrics = costs.metric_names(params.get("Metrics"))
    groups = costs.group_keys(params.get("GroupBy"), resources=resources)
    where = filters.condition(params.get("Filter"), resources=resources)
    where = bills.scoped(ctx, params.get("BillingViewArn"), where, resources=resources)
    pager = _pager(ctx, operation, params)
    pager.offset(params.get("NextPageToken"))  # a bad token fails before any work
    now = ctx.clock.now()
    if granularity == "HOURLY":
        recent(span, now, "Hourly granularity")
    if resources:
        recent(span, now, "Resource-level data")
    bill = bills.for_call(ctx, granularity)
    bills.available(bill, span, now)
    query = costs.CostQuery(span, granularity, metrics, groups, where, resources)
    return answers.answer(
        ctx, bill, operation, params, lambda: _cost_page(bill, query, pager, params), where
    )


def _cost_page(bill: Facts, query: costs.CostQuery, pager: Pager, params: dict[str, Any]) -> Result:
    groups = query.groups
    page, token = pager.results(costs.results_by_time(bill, query), params.get("NextPageToken"))
    result: Result = {"ResultsByTime": page}
    if params.get("GroupBy"):
        result["GroupDefinitions"] = params["GroupBy"]
    if any(g.type == "DIMENSION" and g.key == "LINKED_ACCOUNT" for g in groups):
        position = [g.key for g in groups].index("LINKED_ACCOUNT")
        ids = sorted({grp["Keys"][position] for entry in page for grp in entry["Groups"]})
        result["DimensionValueAttributes"] = [
            {"Value": i, "Attributes": {"description": bill.accounts.get(i, "")}} for i in ids
        ]
    else:
        result["DimensionValueAttributes"] = []
    if token:
        result["NextPageToken"] = token
    return result


def get_cost_and_usage(ctx: Context, **params: Any) -> Serialized:
    return _cost_results(ctx, "GetCostAndUsage", params, resources=False)


def get_cost_and_usage_with_resources(ctx: Context, **params: Any) -> Serialized:
    if not params.get("Metrics"):
        params["Metrics"] = ["UnblendedCost"]
    return _cost_results(ctx, "GetCostAndUsageWithResources", params, resources=True)


def _values_span(ctx: Context, params: dict[str, Any]) -> tuple[Span, Any]:
    span = Span.of(params["TimePeriod"])
    max_results = params.get("MaxResults")
    if max_results is not None and not 1 <= max_results <= VALUES_MAX:
        raise invalid(f"MaxResults must be between 1 and {VALUES_MAX}.")
    return span, max_results


def _listed(pager: Pager, found: list[Any], params: dict[str, Any], member: str) -> Result:
    """One page of a listing, with its sizes and the token of the next."""
    page, token = pager.items(found, params.get("NextPageToken"))
    out: Result = {member: page, "ReturnSize": len(page), "TotalSize": len(found)}
    if token:
        out["NextPageToken"] = token
    return out


def get_dimension_values(ctx: Context, **params: Any) -> Serialized:
    span, max_results = _values_span(ctx, params)
    context = values.context_of(params.get("Context"))
    dimension = params["Dimension"]
    values.dimension_column(dimension, context)  # an unsupported dimension fails first
    resources = dimension == "RESOURCE_ID"
    where = filters.condition(params.get("Filter"), resources=resources)
    where = bills.scoped(ctx, params.get("BillingViewArn"), where, resources=resources)
    pager = _pager(ctx, "GetDimensionValues", params, max_results or VALUES_MAX)
    pager.offset(params.get("NextPageToken"))
    now = ctx.clock.now()
    if dimension == "RESOURCE_ID":
        recent(span, now, "Resource-level data")
    bill = bills.for_call(ctx)
    bills.available(bill, span, now)

    def compute() -> Result:
        found = values.dimension_values(
            bill, span, dimension, context, where, params.get("SearchString"), params.get("SortBy")
        )
        return _listed(pager, found, params, "DimensionValues")

    return answers.answer(ctx, bill, "GetDimensionValues", params, compute, where)


def _keyed_values(ctx: Context, operation: str, params: dict[str, Any]) -> Serialized:
    """GetTags (the `tags` of the lines) and GetCostCategories (their `cost_categories`):
    the keys, or the values of one key, in the interval."""
    span, max_results = _values_span(ctx, params)
    where = bills.scoped(ctx, params.get("BillingViewArn"), filters.condition(params.get("Filter")))
    pager = _pager(ctx, operation, params, max_results or VALUES_MAX)
    pager.offset(params.get("NextPageToken"))
    bill = bills.for_call(ctx)
    bills.available(bill, span, ctx.clock.now())
    tags = operation == "GetTags"
    key = params.get("TagKey" if tags else "CostCategoryName")

    def compute() -> Result:
        found = values.keyed(
            bill,
            "tags" if tags else "cost_categories",
            span,
            key,
            where,
            params.get("SearchString"),
            params.get("SortBy"),
        )
        if tags:
            return _listed(pager, found, params, "Tags")
        member = "CostCategoryNames" if key is None else "CostCategoryValues"
        return _listed(pager, found, params, member)

    return answers.answer(ctx, bill, operation, params, compute, where)


def get_tags(ctx: Context, **params: Any) -> Serialized:
    return _keyed_values(ctx, "GetTags", params)


def get_cost_categories(ctx: Context, **params: Any) -> Serialized:
    return _keyed_values(ctx, "GetCostCategories", params)


OPERATIONS: dict[str, Handler] = {
    "GetCostAndUsage": get_cost_and_usage,
    "GetCostAndUsageWithResources": get_cost_and_usage_with_resources,
    "GetDimensionValues": get_dimension_values,
    "GetTags": get_tags,
    "GetCostCategories": get_cost_categories,
}
for module in (
    allocation_tags,
    analyses,
    anomalies,
    anomaly_monitors,
    anomaly_subscriptions,
    comparisons,
    cost_categories,
    forecasts,
    purchases,
    reservations,
    resource_tags,
    rightsizing,
    savings_plans,
):
    OPERATIONS.update(module.OPERATIONS)
