"""COST_AND_USAGE_DASHBOARD, COST_OPTIMIZATION_RECOMMENDATIONS and CARBON_EMISSIONS."""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING, Any, NamedTuple

from bcm_local.billing import catalog, ids, tables
from bcm_local.billing.views import AMORTIZED, USAGE_TYPES, Source, const, select_list

if TYPE_CHECKING:
    from bcm_local.billing.model import Dataset

_DASHBOARD: dict[str, str] = {
    "amortized_cost": AMORTIZED,
    "availability_zone": "az",
    "billing_entity": const("AWS"),
    "billing_period": "bp_start",
    "charge_category": (
        f"CASE WHEN line_item_type IN {USAGE_TYPES} THEN {const('Running_usage')} "
        f"ELSE {const('Non_Usage')} END"
    ),
    "charge_type": "line_item_type",
    "instance_type": "instance_type",
    "instance_type_family": "split_part(instance_type::VARCHAR, '.', 1)",
    "legal_entity": "legal_entity",
    "line_item_description": "description",
    "linked_account_id": "account_id",
    "linked_account_name": "account_name",
    "net_amortized_cost": f"({AMORTIZED}) + k * edp",
    "net_unblended_cost": "k * (c + edp)",
    "operation": "operation",
    "payer_account_id": "payer_id",
    "payer_account_name": "payer_name",
    "pricing_unit": "unit",
    "product_code": "product_code",
    "product_family": "product_family",
    "product_name": "service_name",
    "public_cost": "k * pub",
    "purchase_option": (
        "CASE WHEN sp_arn IS NOT NULL THEN 'Savings Plans' WHEN ri_arn IS NOT NULL THEN 'Reserved' "
        "WHEN line_item_type = 'Usage' THEN 'On Demand' END"
    ),
    "region": "region",
    "ri_sp_arn": "commitment_id",
    "unblended_cost": "k * c",
    "usage_date": "date_trunc('day', start_ts)",
    "usage_quantity": "k * u",
    "usage_type": "usage_type",
}
_DASHBOARD_SUMS = {"amortized_cost", "net_amortized_cost", "net_unblended_cost", "public_cost"}
_DASHBOARD_SUMS |= {"unblended_cost", "usage_quantity"}


def _product(data: Dataset, key: str) -> str | None:
    typed = data.map_key("product_map", key)
    return None if typed is None else f"map_extract_value(product_map, {typed})"


def dashboard(data: Dataset, props: dict[str, str]) -> str:
    exprs = dict(_DASHBOARD)
    for key in ("current_generation", "database_engine"):
        if (found := _product(data, key)) is not None:
            exprs[key] = found
    inner = f"SELECT {select_list(tables.DASHBOARD, props, exprs)} FROM li"
    outer = [
        f'sum("{c.name}") AS "{c.name}"' if c.name in _DASHBOARD_SUMS else f'"{c.name}"'
        for c in tables.columns(tables.DASHBOARD, props)
    ]
    return f"SELECT {', '.join(outer)} FROM ({inner}) GROUP BY ALL ORDER BY ALL"


def carbon(data: Dataset, props: dict[str, str]) -> str:
    import pyarrow as pa

    regions = pa.table(
        {
            "code": list(catalog.REGIONS),
            "factor": [r.mtco2e_per_usd for r in catalog.REGIONS.values()],
            "location": [r.location for r in catalog.REGIONS.values()],
        }
    )
    data.con.register("carbon_regions", regions)
    exprs = {
        "last_refresh_timestamp": f"TIMESTAMP '{data.now.strftime('%Y-%m-%d %H:00:00')}'",
        "location": "location",
        "model_version": const("v3.0.0"),
        "payer_account_id": "payer_id",
        "product_code": "product_code",
        "region_code": "region",
        "total_mbm_emissions_unit": const("MTCO2e"),
        "total_mbm_emissions_value": "value",
        "usage_account_id": "account_id",
        "usage_period_end": "bp_end",
        "usage_period_start": "bp_start",
    }
    grouped = (
        "SELECT payer_id, account_id, product_code, region, bp_start, bp_end, "
        "any_value(r.location) "
        "AS location, round(sum(l.month_factor * l.c * r.factor), 6) AS value FROM lines l "
        "JOIN carbon_regions r ON r.code = l.region::VARCHAR WHERE line_item_type IN "
        f"{USAGE_TYPES} "
        "GROUP BY ALL"
    )
    columns = select_list(tables.CARBON, props, exprs, Source(marker="value"))
    return (
        f"SELECT {columns} FROM ({grouped}) "
        "ORDER BY usage_period_start, usage_account_id, product_code, region_code"
    )


_SERIAL = itertools.count()
_GRAVITON = {"m5.large": "m6g.large", "m5.xlarge": "m6g.xlarge", "c5.xlarge": "c6g.xlarge"}
_SMALLER = {"m5.2xlarge": "m5.xlarge", "m5.xlarge": "m5.large", "c5.2xlarge": "c5.xlarge"}
_SMALLER |= {"c5.xlarge": "c5.large", "r5.xlarge": "r5.large", "m6g.xlarge": "m6g.large"}


def recommendations(data: Dataset, props: dict[str, str]) -> str:
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
    names = [c.name for c in tables.TABLES[tables.RECOMMENDATIONS].columns]
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
    columns = select_list(tables.RECOMMENDATIONS, props, exprs, Source(marker="__n"))
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
