"""COST_OPTIMIZATION_RECOMMENDATIONS: Cost Optimization Hub's recommendations for the
resources of the latest month with usage (stop, rightsize, Graviton, gp3), with the
FILTER and INCLUDE_ALL_RECOMMENDATIONS table properties."""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING, Any, NamedTuple

from bcm_local.billing import catalog
from bcm_local.billing.scenario import ids
from bcm_local.billing.tables.schema import Property, Table, columns_of, flag
from bcm_local.billing.tables.sql import Source, select_list

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset

NAME = "COST_OPTIMIZATION_RECOMMENDATIONS"
s, d, t, i, b = "string", "double", "timestamp", "int", "boolean"
ms = "map<string,string>"

_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
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

_FILTER_KEYS = frozenset(
    [
        "accountIds",
        "regions",
        "resourceTypes",
        "actionTypes",
        "implementationEfforts",
        "resourceArns",
        "recommendationIds",
        "restartNeeded",
        "rollbackPossible",
    ]
)


def _check_filter(value: str) -> str | None:
    try:
        parsed = json.loads(value)
    except ValueError:
        return "FILTER must be a JSON object."
    if not isinstance(parsed, dict):
        return "FILTER must be a JSON object."
    unknown = sorted(set(parsed) - _FILTER_KEYS)
    if unknown:
        return (
            f"unknown FILTER keys {', '.join(unknown)}; valid: {', '.join(sorted(_FILTER_KEYS))}."
        )
    for key, item in parsed.items():
        if key in ("restartNeeded", "rollbackPossible"):
            if not isinstance(item, bool):
                return f"FILTER {key} must be true or false."
        elif not (isinstance(item, list) and all(isinstance(x, str) for x in item)):
            return f"FILTER {key} must be a list of strings."
    return None


TABLE = Table(
    NAME,
    "Cost optimization recommendations from Cost Optimization Hub.",
    columns_of(_COLUMNS),
    (
        Property(
            "FILTER",
            (),
            "{}",
            "JSON filter over the recommendations (accountIds, regions, resourceTypes, "
            "actionTypes, implementationEfforts, resourceArns, recommendationIds, "
            "restartNeeded, rollbackPossible).",
            _check_filter,
        ),
        flag(
            "INCLUDE_ALL_RECOMMENDATIONS",
            "Includes every recommendation, also the alternatives for a resource that "
            "overlap the best one.",
        ),
    ),
)

_SERIAL = itertools.count()
_GRAVITON = {"m5.large": "m6g.large", "m5.xlarge": "m6g.xlarge", "c5.xlarge": "c6g.xlarge"}
_SMALLER = {"m5.2xlarge": "m5.xlarge", "m5.xlarge": "m5.large", "c5.2xlarge": "c5.xlarge"}
_SMALLER |= {"c5.xlarge": "c5.large", "r5.xlarge": "r5.large", "m6g.xlarge": "m6g.large"}


def sql(data: Dataset, props: dict[str, str]) -> str:
    import pyarrow as pa

    rows = _recommendation_rows(data)
    rows = _filter(rows, json.loads(props["FILTER"]))
    if props["INCLUDE_ALL_RECOMMENDATIONS"] != "TRUE":
        best: dict[str, dict[str, Any]] = {}
        for row in rows:
            key = row["resource_arn"] or row["recommendation_id"]
            if (
                key not in best
                or row["estimated_monthly_savings_after_discount"]
                > best[key]["estimated_monthly_savings_after_discount"]
            ):
                best[key] = row
        rows = [r for r in rows if best.get(r["resource_arn"] or r["recommendation_id"]) is r]
    names = [c.name for c in TABLE.columns]
    table = pa.table(
        {n: [r[n] for r in rows] for n in names if n not in ("tags", "last_refresh_timestamp")}
        | {"tags": pa.array([r["tags"] for r in rows], pa.map_(pa.string(), pa.string()))}
        | {"__n": list(range(len(rows)))}
    )
    name = f"reco_rows_{next(_SERIAL)}"
    data.con.register(name, table)
    exprs = {n: n for n in names} | {
        "last_refresh_timestamp": f"TIMESTAMP '{data.now.strftime('%Y-%m-%d %H:00:00')}'"
    }
    columns = select_list(TABLE, props, exprs, Source(marker="__n"))
    return f"SELECT {columns} FROM {name} ORDER BY __n"


def _recommendation_rows(data: Dataset) -> list[dict[str, Any]]:
    # the latest month with usage (an open month in its first hour has none yet)
    last = max((p.index for p in data.periods if p.active_hours), default=-1)
    found = data.con.execute(
        "SELECT DISTINCT account_id::VARCHAR, region::VARCHAR, resource_id::VARCHAR, "
        "usage_type::VARCHAR, instance_type::VARCHAR, pattern::VARCHAR, lp, u, focus_tags "
        f"FROM lines WHERE period = {last} AND resource_id IS NOT NULL AND lp IS NOT NULL "
        "AND line_item_type <> 'SavingsPlanNegation' AND (usage_type LIKE '%BoxUsage:%' "
        "OR usage_type LIKE '%VolumeUsage.gp2') ORDER BY 3, 4"
    ).fetchall()
    rows: list[dict[str, Any]] = []
    for account, region, resource, usage, itype, pattern, price, units, tags in found:
        monthly = price * units * catalog.HOURS_PER_MONTH
        tags = dict(tags) if tags else {}
        if "VolumeUsage" in usage:
            target = _Target(account, region, resource, "EbsVolume", "gp2", monthly, tags)
            actions = [_Action("Upgrade", "gp3", 0.2, "VeryLow", False)]
        else:
            arn = f"arn:aws:ec2:{region}:{account}:instance/{resource}"
            target = _Target(account, region, arn, "Ec2Instance", itype, monthly, tags)
            actions = _instance_actions(itype, pattern)
        rows += [_row(data, target, action) for action in actions]
    return rows


class _Target(NamedTuple):
    account: str
    region: str
    arn: str
    kind: str  # Ec2Instance or EbsVolume
    current: str  # its type
    monthly: float
    tags: dict[str, str]


class _Action(NamedTuple):
    name: str
    recommended: str
    saving: float  # share of the monthly cost
    effort: str
    restart: bool


def _instance_actions(itype: str, pattern: str) -> list[_Action]:
    out = []
    if pattern == "business":
        out.append(_Action("Stop", itype, 1.0, "Low", True))
    if itype in _SMALLER:
        out.append(_Action("Rightsize", _SMALLER[itype], 0.5, "Medium", True))
    if itype in _GRAVITON:
        saving = 1 - catalog.EC2_TYPES[_GRAVITON[itype]][0] / catalog.EC2_TYPES[itype][0]
        out.append(_Action("MigrateToGraviton", _GRAVITON[itype], saving, "Medium", True))
    return out


def _row(data: Dataset, target: _Target, action: _Action) -> dict[str, Any]:
    monthly, saving, current = target.monthly, action.saving, target.current
    after = round(monthly * (1 - saving), 6)
    savings = round(monthly - after, 6)
    pct = round(100 * saving, 2)
    key = {"Ec2Instance": "ec2Instance", "EbsVolume": "ebsVolume"}[target.kind]
    return {
        "account_id": target.account,
        "action_type": action.name,
        "currency_code": "USD",
        "current_resource_details": json.dumps({key: {"configuration": {"type": current}}}),
        "current_resource_summary": current,
        "current_resource_type": target.kind,
        "estimated_monthly_cost_after_discount": after,
        "estimated_monthly_cost_before_discount": after,
        "estimated_monthly_savings_after_discount": savings,
        "estimated_monthly_savings_before_discount": savings,
        "estimated_savings_percentage_after_discount": pct,
        "estimated_savings_percentage_before_discount": pct,
        "implementation_effort": action.effort,
        "recommendation_id": ids.hex_id(32, data.payer_id, target.arn, action.name),
        "recommendation_lookback_period_in_days": 14,
        "recommendation_source": "ComputeOptimizer",
        "recommended_resource_details": json.dumps(
            {key: {"configuration": {"type": action.recommended}}}
        ),
        "recommended_resource_summary": (
            action.recommended if action.name != "Stop" else "Stop instance"
        ),
        "recommended_resource_type": target.kind,
        "region": target.region,
        "resource_arn": target.arn,
        "restart_needed": action.restart,
        "rollback_possible": True,
        "tags": target.tags,
    }


_FILTER_FIELDS = {
    "accountIds": "account_id",
    "regions": "region",
    "resourceTypes": "current_resource_type",
    "actionTypes": "action_type",
    "implementationEfforts": "implementation_effort",
    "resourceArns": "resource_arn",
    "recommendationIds": "recommendation_id",
    "restartNeeded": "restart_needed",
    "rollbackPossible": "rollback_possible",
}


def _filter(rows: list[dict[str, Any]], spec: dict[str, Any]) -> list[dict[str, Any]]:
    for key, wanted in spec.items():
        field = _FILTER_FIELDS[key]
        if isinstance(wanted, bool):
            rows = [r for r in rows if r[field] is wanted]
        else:
            rows = [r for r in rows if r[field] in wanted]
    return rows
