"""The console's Cost Explorer page: a stacked bar chart of one metric over time, grouped by
a dimension, a tag or a cost category, with a filter, through a billing view. Every figure
is what the `ce` service answers: the page's JSON route calls the GetCostAndUsage,
GetDimensionValues, GetTags and GetCostCategories operations themselves (services/ce),
and returns the GetCostAndUsage request it made, so the same request through boto3 or the
AWS CLI gives the same numbers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson

from bcm_local.billing.scenario.periods import add_months, month_start
from bcm_local.console.html import esc, page
from bcm_local.console.view import View, json_response
from bcm_local.runtime import Context
from bcm_local.services import billing_views
from bcm_local.services.ce import bills
from bcm_local.services.ce.operations import OPERATIONS
from bcm_local.wire.errors import AwsError
from bcm_local.wire.http import Response
from bcm_local.wire.model import Serialized

GROUPS = {  # the group-by selector: CE dimension -> label
    "SERVICE": "Service",
    "LINKED_ACCOUNT": "Account",
    "REGION": "Region",
    "USAGE_TYPE": "Usage type",
}
FILTER_DIMENSIONS = ("SERVICE", "LINKED_ACCOUNT", "REGION")
METRICS = ("UnblendedCost", "AmortizedCost", "NetUnblendedCost", "BlendedCost")
GRANULARITIES = ("MONTHLY", "DAILY")
MONTHS_BACK = 3  # the default period: three whole months before this one, and this one


def _call(ctx: Context, operation: str, **params: Any) -> dict[str, Any]:
    result = OPERATIONS[operation](ctx, **params)
    if isinstance(result, Serialized):  # the ce operations answer ready-made bodies
        body: dict[str, Any] = orjson.loads(result.body)
        return body
    assert isinstance(result, dict), operation
    return result


def _context(view: View) -> Context:
    return Context(view.runtime, view.account, "us-east-1", str(uuid.uuid4()))


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _default_span(ctx: Context) -> tuple[str, str]:
    now = ctx.clock.now()
    first = bills.for_call(ctx).first
    start = max(add_months(month_start(now), -MONTHS_BACK), first)
    return _day(start), _day(add_months(month_start(now), 1))


def _group_by(group: str) -> dict[str, str]:
    """A dimension, `TAG:<key>` or `CC:<cost category>`."""
    if group.startswith("TAG:") and len(group) > 4:
        return {"Type": "TAG", "Key": group[4:]}
    if group.startswith("CC:") and len(group) > 3:
        return {"Type": "COST_CATEGORY", "Key": group[3:]}
    if group not in GROUPS:
        raise AwsError(
            "ValidationException",
            f"group must be one of {', '.join(GROUPS)}, TAG:<key> or CC:<cost category>, "
            f"not {group!r}.",
        )
    return {"Type": "DIMENSION", "Key": group}


def _filter(text: str) -> dict[str, Any] | None:
    """`DIMENSION=value`, `TAG:key=value` or `CC:category=value` (empty: no filter)."""
    if not text:
        return None
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise AwsError(
            "ValidationException",
            "filter must be DIMENSION=value, TAG:key=value or CC:category=value.",
        )
    for prefix, root in (("TAG:", "Tags"), ("CC:", "CostCategories")):
        if key.startswith(prefix):
            leaf = {"Key": key[len(prefix) :], "Values": [value], "MatchOptions": ["EQUALS"]}
            return {root: leaf}
    return {"Dimensions": {"Key": key, "Values": [value], "MatchOptions": ["EQUALS"]}}


def request_of(view: View, ctx: Context) -> dict[str, Any]:
    """The GetCostAndUsage request the page's parameters stand for."""
    start, end = view.param("start"), view.param("end")
    if not start or not end:
        start, end = _default_span(ctx)
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start, "End": end},
        "Granularity": view.param("granularity", "MONTHLY"),
        "Metrics": [view.param("metric", METRICS[0])],
        "GroupBy": [_group_by(view.param("group", "SERVICE"))],
    }
    if request["Granularity"] not in GRANULARITIES:
        raise AwsError("ValidationException", "granularity must be MONTHLY or DAILY.")
    found = _filter(view.param("filter"))
    if found is not None:
        request["Filter"] = found
    if view.param("view"):
        request["BillingViewArn"] = view.param("view")
    return request


def explore(view: View) -> dict[str, Any]:
    ctx = _context(view)
    request = request_of(view, ctx)
    metric = request["Metrics"][0]
    results: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        more = {"NextPageToken": token} if token else {}
        answer = _call(ctx, "GetCostAndUsage", **request, **more)
        results.extend(answer["ResultsByTime"])
        token = answer.get("NextPageToken")
        if not token:
            break
    # a period whose groups run over pages comes once per page
    estimated = {e["TimePeriod"]["Start"]: bool(e.get("Estimated")) for e in results}
    periods = list(estimated)
    series: dict[str, dict[str, float]] = {}
    for entry in results:
        start = entry["TimePeriod"]["Start"]
        for grp in entry["Groups"]:
            amounts = series.setdefault(grp["Keys"][0], {})
            amounts[start] = amounts.get(start, 0.0) + float(grp["Metrics"][metric]["Amount"])
    drawn: list[dict[str, Any]] = [
        {
            "id": key,
            "name": key,
            "total": sum(by.values()),
            "daily": [by.get(p, 0.0) for p in periods],
        }
        for key, by in series.items()
    ]
    drawn.sort(key=lambda s: (-abs(s["total"]), s["id"]))
    span = request["TimePeriod"]
    return {
        "request": request,
        "periods": periods,
        "series": drawn,
        "total": sum(s["total"] for s in drawn),
        "estimated": [estimated[p] for p in periods],
        "options": _options(ctx, span, request.get("BillingViewArn")),
    }


def views_of(ctx: Context) -> list[dict[str, str]]:
    """The account's billing views: the primary one, then its custom ones by name."""
    primary = billing_views.primary_arn(ctx.account_id)
    custom = sorted(billing_views.custom_views(ctx.store, ctx.account_id), key=lambda v: v["name"])
    return [
        {"arn": primary, "name": billing_views.PRIMARY_NAME},
        *({"arn": v["arn"], "name": v["name"]} for v in custom),
    ]


def _options(ctx: Context, span: dict[str, str], arn: str | None) -> dict[str, Any]:
    """What the selectors offer: the dimensions' values, the tag keys and the cost
    categories (with their values) of the period, through the billing view asked."""
    scope = {"TimePeriod": span, **({"BillingViewArn": arn} if arn else {})}
    values = {
        d: [
            v["Value"]
            for v in _call(ctx, "GetDimensionValues", Dimension=d, **scope)["DimensionValues"]
        ]
        for d in FILTER_DIMENSIONS
    }
    names = _call(ctx, "GetCostCategories", **scope)["CostCategoryNames"]
    categories = {
        name: _call(ctx, "GetCostCategories", CostCategoryName=name, **scope)["CostCategoryValues"]
        for name in names
    }
    return {
        "groups": GROUPS,
        "metrics": list(METRICS),
        "granularities": list(GRANULARITIES),
        "values": values,
        "tags": _call(ctx, "GetTags", **scope)["Tags"],
        "categories": categories,
        "views": views_of(ctx),
    }


def ce_json(view: View) -> Response:
    try:
        body = explore(view)
    except AwsError as err:
        return json_response(400, {"code": err.code, "message": err.message})
    return json_response(200, {"account": view.account, **body})


def ce_page(view: View) -> Response:
    api = view.href("/api/ce")
    body = (
        f'<div id="ce" data-api="{esc(api)}">'
        '<form id="ce-filters" method="get"></form>'
        '<p id="ce-status" class="empty">Asking Cost Explorer…</p>'
        '<div id="ce-summary" class="summary"></div>'
        '<div class="chart" id="ce-chart"></div>'
        '<div id="ce-table"></div>'
        '<h2>The request</h2><pre id="ce-request"></pre></div>'
    )
    return page(
        view,
        "/ce",
        f"Cost Explorer of {view.account}",
        body,
        scripts=("page.js", "chart.js", "ce.js"),
    )
