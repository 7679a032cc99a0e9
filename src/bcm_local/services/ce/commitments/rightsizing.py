"""GetRightsizingRecommendation (`ce`): per EC2 instance, the recommendation of the bill's
COST_OPTIMIZATION_RECOMMENDATIONS table (billing/queries/rightsizing.py) with the largest
estimated monthly savings among the actions the configuration allows: a Stop is AWS's
TERMINATE, a Rightsize (same family) or, with CROSS_INSTANCE_FAMILY, a MigrateToGraviton is
a MODIFY to the recommended type. Filter: LINKED_ACCOUNT, REGION and tags."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bcm_local.billing import bill as bills_of
from bcm_local.billing.expressions import filters
from bcm_local.billing.queries import rightsizing
from bcm_local.billing.queries.cache import BillCache
from bcm_local.billing.queries.commitments import money, percent
from bcm_local.billing.queries.timespan import invalid
from bcm_local.runtime import Context
from bcm_local.services.ce import bills
from bcm_local.services.ce.paging import Pager
from bcm_local.services.registry import Handler

Result = dict[str, Any]
RECOMMENDATIONS: BillCache[list[dict[str, Any]]] = BillCache(rightsizing.build, keep=2)
ALLOWED = {
    "SAME_INSTANCE_FAMILY": ("Stop", "Rightsize"),
    "CROSS_INSTANCE_FAMILY": ("Stop", "Rightsize", "MigrateToGraviton"),
}


def _kept(rows: list[dict[str, Any]], expression: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The rows under the Filter, evaluated in DuckDB over the rows' account, region, tags."""
    if not expression:
        return rows
    import pyarrow as pa

    where = filters.condition(
        expression,
        ("LINKED_ACCOUNT", "REGION"),
        columns={"LINKED_ACCOUNT": "account_id", "REGION": "region"},
    )
    table = pa.table(
        {
            "n": list(range(len(rows))),
            "account_id": [r["account_id"] for r in rows],
            "region": [r["region"] for r in rows],
            "tags": pa.array(
                [dict(r["tags"] or {}) for r in rows], pa.map_(pa.string(), pa.string())
            ),
        }
    )
    small = bills_of.materialise(table, "CREATE TABLE rows_in AS SELECT * FROM rows", threads=1)
    try:
        keep = {int(r[0]) for r in small.execute(f"SELECT n FROM rows_in WHERE {where}").fetchall()}
    finally:
        small.close()
    return [r for i, r in enumerate(rows) if i in keep]


def _details(row: dict[str, Any], kind: str) -> Result:
    detail = json.loads(row[f"{kind}_resource_details"])["ec2Instance"]["configuration"]
    return {"EC2ResourceDetails": {"InstanceType": detail["type"], "Region": row["region"]}}


def _recommendation(row: dict[str, Any]) -> Result:
    after = float(row["estimated_monthly_cost_after_discount"])
    savings = float(row["estimated_monthly_savings_after_discount"])
    tags = [{"Key": k, "Values": [v]} for k, v in sorted(dict(row["tags"] or {}).items())]
    current: Result = {
        "ResourceId": str(row["resource_arn"]).rsplit("/", 1)[-1],
        "InstanceName": dict(row["tags"] or {}).get("Name", ""),
        "Tags": tags,
        "ResourceDetails": _details(row, "current"),
        "MonthlyCost": money(after + savings),
        "CurrencyCode": "USD",
    }
    out: Result = {"AccountId": row["account_id"], "CurrentInstance": current}
    if row["action_type"] == "Stop":
        out["RightsizingType"] = "TERMINATE"
        out["TerminateRecommendationDetail"] = {
            "EstimatedMonthlySavings": money(savings),
            "CurrencyCode": "USD",
        }
        out["FindingReasonCodes"] = ["CPU_OVER_PROVISIONED"]
    else:
        target = {
            "EstimatedMonthlyCost": money(after),
            "EstimatedMonthlySavings": money(savings),
            "CurrencyCode": "USD",
            "DefaultTargetInstance": True,
            "ResourceDetails": _details(row, "recommended"),
        }
        out["RightsizingType"] = "MODIFY"
        out["ModifyRecommendationDetail"] = {"TargetInstances": [target]}
        out["FindingReasonCodes"] = ["CPU_OVER_PROVISIONED", "MEMORY_OVER_PROVISIONED"]
    return out


def get_rightsizing_recommendation(ctx: Context, **params: Any) -> Result:
    if params["Service"] != "AmazonEC2":
        raise invalid("Rightsizing recommendations are available for AmazonEC2 only.")
    configuration = params.get("Configuration") or {
        "RecommendationTarget": "SAME_INSTANCE_FAMILY",
        "BenefitsConsidered": True,
    }
    size = params.get("PageSize") or 100
    pager = Pager(
        ctx.store,
        "GetRightsizingRecommendation",
        ctx.account_id,
        {k: v for k, v in params.items() if k != "NextPageToken"},
        size,
    )
    pager.offset(params.get("NextPageToken"))
    bills.throttle(ctx)
    rows, now = RECOMMENDATIONS.get(ctx.runtime, ctx.account_id)
    allowed = ALLOWED[configuration["RecommendationTarget"]]
    best: dict[str, dict[str, Any]] = {}
    for row in _kept([r for r in rows if r["action_type"] in allowed], params.get("Filter")):
        arn = str(row["resource_arn"])
        saving = float(row["estimated_monthly_savings_after_discount"])
        if arn not in best or saving > float(best[arn]["estimated_monthly_savings_after_discount"]):
            best[arn] = row
    chosen = [best[arn] for arn in sorted(best)]
    found = [_recommendation(r) for r in chosen]
    page, token = pager.items(found, params.get("NextPageToken"))
    savings = sum(float(r["estimated_monthly_savings_after_discount"]) for r in chosen)
    cost = savings + sum(float(r["estimated_monthly_cost_after_discount"]) for r in chosen)
    stamp = now.strftime("%Y-%m-%dT%H:00:00Z")
    out: Result = {
        "Metadata": {
            "RecommendationId": hashlib.sha256(f"{ctx.account_id}{stamp}".encode()).hexdigest()[
                :36
            ],
            "GenerationTimestamp": stamp,
            "LookbackPeriodInDays": "SEVEN_DAYS",
            "AdditionalMetadata": "From the COST_OPTIMIZATION_RECOMMENDATIONS table of the bill",
        },
        "Summary": {
            "TotalRecommendationCount": str(len(found)),
            "EstimatedTotalMonthlySavingsAmount": money(savings),
            "SavingsCurrencyCode": "USD",
            "SavingsPercentage": percent(savings, cost),
        },
        "RightsizingRecommendations": page,
        "Configuration": configuration,
    }
    if token:
        out["NextPageToken"] = token
    return out


OPERATIONS: dict[str, Handler] = {"GetRightsizingRecommendation": get_rightsizing_recommendation}
