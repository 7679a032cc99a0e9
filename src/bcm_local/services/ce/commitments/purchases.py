"""Purchase recommendations (`ce`): GetReservationPurchaseRecommendation,
GetSavingsPlansPurchaseRecommendation, GetSavingsPlanPurchaseRecommendationDetails,
StartSavingsPlansPurchaseRecommendationGeneration and
ListSavingsPlansPurchaseRecommendationGeneration. The figures follow from the bill's
on-demand usage over the lookback period and the catalog's discounts, by the method of
billing/queries/purchases.py (docs/ce-recommendations.md).

Defaults, where AWS's model leaves them open: SEVEN_DAYS, ONE_YEAR, NO_UPFRONT and the PAYER
scope. A generation completes at once (the emulator computes recommendations on demand);
a detail id stays valid for the bill it was computed from."""

from __future__ import annotations

import uuid
from typing import Any

from bcm_local.billing.expressions import filters
from bcm_local.billing.queries import purchases
from bcm_local.billing.queries.commitments import money, percent
from bcm_local.billing.queries.facts import Facts
from bcm_local.billing.queries.timespan import invalid
from bcm_local.billing.usage.commitments import RI_DISCOUNT, TERM_HOURS, UPFRONT_SHARE
from bcm_local.runtime import Context
from bcm_local.services.ce import bills
from bcm_local.services.ce.paging import Pager
from bcm_local.services.registry import Handler
from bcm_local.wire.errors import AwsError

Result = dict[str, Any]
DETAILS = "ce-sp-recommendation-details"
GENERATIONS = "ce-sp-recommendation-generations"
# CE service -> the InstanceDetails member of its reservations
INSTANCE_DETAILS = {
    "Amazon Elastic Compute Cloud - Compute": "EC2InstanceDetails",
    "Amazon Relational Database Service": "RDSInstanceDetails",
    "Amazon ElastiCache": "ElastiCacheInstanceDetails",
    "Amazon Redshift": "RedshiftInstanceDetails",
    "Amazon OpenSearch Service": "ESInstanceDetails",
    "Amazon Elasticsearch Service": "ESInstanceDetails",
}
SP_TYPES = {"COMPUTE_SP": "ComputeSavingsPlans", "EC2_INSTANCE_SP": "EC2InstanceSavingsPlans"}


def _id(*parts: Any) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(str(p) for p in parts)))


def _choices(params: dict[str, Any]) -> tuple[str, str, str, str]:
    """(lookback, term, payment, scope) with the defaults; LIGHT/MEDIUM/HEAVY_UTILIZATION
    are not offered any more."""
    payment = params.get("PaymentOption") or "NO_UPFRONT"
    if payment not in purchases.PAYMENTS:
        raise invalid(
            f"PaymentOption {payment} is not offered: use NO_UPFRONT, "
            "PARTIAL_UPFRONT or ALL_UPFRONT."
        )
    return (
        params.get("LookbackPeriodInDays") or "SEVEN_DAYS",
        params.get("TermInYears") or "ONE_YEAR",
        payment,
        params.get("AccountScope") or "PAYER",
    )


def _bill(ctx: Context, lookback: str) -> tuple[Facts, purchases.Window]:
    bill = bills.for_call(ctx)
    win = purchases.window(ctx.clock.now(), lookback)
    if win.start < bill.first:
        raise AwsError(
            "DataUnavailableException",
            f"The bill starts on {bill.first:%Y-%m-%d}, after the lookback period.",
        )
    return bill, win


def _pager(ctx: Context, operation: str, params: dict[str, Any]) -> Pager:
    rest = {k: v for k, v in params.items() if k != "NextPageToken"}
    return Pager(ctx.store, operation, ctx.account_id, rest, params.get("PageSize") or 100)


def get_reservation_purchase_recommendation(ctx: Context, **params: Any) -> Result:
    service = params["Service"]
    if service not in INSTANCE_DETAILS:
        raise invalid(f"Reservations are not offered for {service}.")
    lookback, term, payment, scope = _choices(params)
    pager = _pager(ctx, "GetReservationPurchaseRecommendation", params)
    pager.offset(params.get("NextPageToken"))
    where = filters.condition(params.get("Filter"), ("LINKED_ACCOUNT", "REGION"))
    if params.get("AccountId"):
        where = f'({where}) AND "LINKED_ACCOUNT" = {filters.literal(params["AccountId"])}'
    bill, win = _bill(ctx, lookback)
    key = (purchases.TERMS[term], purchases.PAYMENTS[payment])
    details = []
    for use in purchases.reservable_usage(bill, win, service, where, scope == "LINKED"):
        found = purchases.reservation(
            use, win, RI_DISCOUNT[key], UPFRONT_SHARE[key[1]], TERM_HOURS[key[0]]
        )
        if found["count"] < 1:
            continue
        details.append(_reservation_detail(ctx, bill, service, use, found))
    page, token = pager.items(details, params.get("NextPageToken"))
    saving = sum(float(d["EstimatedMonthlySavingsAmount"]) for d in details)
    on_demand = sum(float(d["EstimatedMonthlyOnDemandCost"]) for d in details)
    recommendation: Result = {
        "AccountScope": scope,
        "LookbackPeriodInDays": lookback,
        "TermInYears": term,
        "PaymentOption": payment,
        "RecommendationDetails": page,
        "RecommendationSummary": {
            "TotalEstimatedMonthlySavingsAmount": money(saving),
            "TotalEstimatedMonthlySavingsPercentage": percent(saving, on_demand),
            "CurrencyCode": "USD",
        },
    }
    if service == "Amazon Elastic Compute Cloud - Compute":
        spec = params.get("ServiceSpecification") or {
            "EC2Specification": {"OfferingClass": "STANDARD"}
        }
        recommendation["ServiceSpecification"] = spec
    now = ctx.clock.now()
    out: Result = {
        "Metadata": {
            "RecommendationId": _id(ctx.account_id, "ri", service, lookback, term, payment, scope),
            "GenerationTimestamp": f"{now:%Y-%m-%dT%H:00:00Z}",
            "AdditionalMetadata": "From the bill's on-demand usage over the lookback period",
        },
        "Recommendations": [recommendation] if details else [],
    }
    if token:
        out["NextPageToken"] = token
    return out


def _reservation_detail(
    ctx: Context, bill: Facts, service: str, use: purchases.Usage, found: dict[str, float]
) -> Result:
    key = use.key
    instance: Result = {
        "Family": key["INSTANCE_TYPE"].split(".")[-2] if "." in key["INSTANCE_TYPE"] else "",
        "InstanceType": key["INSTANCE_TYPE"],
        "Region": key["REGION"],
        "CurrentGeneration": True,
        "SizeFlexEligible": True,
    }
    if service == "Amazon Elastic Compute Cloud - Compute":
        instance |= {"Platform": key["PLATFORM"], "Tenancy": key["TENANCY"] or "Shared"}
    elif service == "Amazon Relational Database Service":
        instance |= {"DatabaseEngine": key["DATABASE_ENGINE"]}
    factor = found["unit_factor"]
    return {
        "AccountId": key.get("LINKED_ACCOUNT", ctx.account_id),
        "InstanceDetails": {INSTANCE_DETAILS[service]: instance},
        "RecommendedNumberOfInstancesToPurchase": money(found["count"]),
        "RecommendedNormalizedUnitsToPurchase": money(found["units"]),
        "MinimumNumberOfInstancesUsedPerHour": money(found["min"]),
        "MinimumNormalizedUnitsUsedPerHour": money(found["min"] * factor),
        "MaximumNumberOfInstancesUsedPerHour": money(found["max"]),
        "MaximumNormalizedUnitsUsedPerHour": money(found["max"] * factor),
        "AverageNumberOfInstancesUsedPerHour": money(found["avg"]),
        "AverageNormalizedUnitsUsedPerHour": money(found["avg"] * factor),
        "AverageUtilization": "100",
        "EstimatedBreakEvenInMonths": money(found["break_even"]),
        "CurrencyCode": "USD",
        "EstimatedMonthlySavingsAmount": money(found["saving"]),
        "EstimatedMonthlySavingsPercentage": percent(found["saving"], found["on_demand"]),
        "EstimatedMonthlyOnDemandCost": money(found["on_demand"]),
        "EstimatedReservationCostForLookbackPeriod": money(found["lookback_cost"]),
        "UpfrontCost": money(found["upfront"]),
        "RecurringStandardMonthlyCost": money(found["recurring"]),
    }


def _sp_details(ctx: Context, params: dict[str, Any]) -> tuple[list[Result], Result]:
    """The Savings Plans recommendation's details and its summary."""
    kind = params["SavingsPlansType"]
    lookback, term, payment, scope = _choices(params)
    where = filters.condition(params.get("Filter"), ("LINKED_ACCOUNT", "REGION"))
    bill, win = _bill(ctx, lookback)
    by = ["LINKED_ACCOUNT"] if scope == "LINKED" else []
    if kind == "EC2_INSTANCE_SP":
        by += ["REGION", "INSTANCE_TYPE_FAMILY"]
        where = f"({where}) AND regexp_matches(\"USAGE_TYPE\", '(^|-)BoxUsage')"
    usage = (
        []
        if kind not in SP_TYPES
        else purchases.spend_by(bill, win, where, by, purchases.TERMS[term])
    )
    details: list[Result] = []
    for use in usage:
        found = purchases.savings_plan(
            use, win, UPFRONT_SHARE[purchases.PAYMENTS[payment]], TERM_HOURS[purchases.TERMS[term]]
        )
        if found["commitment"] <= 0:
            continue
        detail_id = _id(ctx.account_id, kind, lookback, term, payment, scope, *use.key.values())
        details.append(
            {
                "SavingsPlansDetails": {
                    "Region": use.key.get("REGION", ""),
                    "InstanceFamily": use.key.get("INSTANCE_TYPE_FAMILY", ""),
                    "OfferingId": _id(kind, term, payment, *use.key.values()),
                },
                "AccountId": use.key.get("LINKED_ACCOUNT", ctx.account_id),
                "UpfrontCost": money(found["upfront"]),
                "EstimatedROI": percent(found["saving"], found["sp_cost"]),
                "CurrencyCode": "USD",
                "EstimatedSPCost": money(found["sp_cost"]),
                "EstimatedOnDemandCost": money(found["on_demand"]),
                "EstimatedOnDemandCostWithCurrentCommitment": money(found["with_current"]),
                "EstimatedSavingsAmount": money(found["saving"]),
                "EstimatedSavingsPercentage": percent(found["saving"], found["on_demand"]),
                "HourlyCommitmentToPurchase": money(found["commitment"]),
                "EstimatedAverageUtilization": "100",
                "EstimatedMonthlySavingsAmount": money(found["monthly_saving"]),
                "CurrentMinimumHourlyOnDemandSpend": money(found["min"]),
                "CurrentMaximumHourlyOnDemandSpend": money(found["max"]),
                "CurrentAverageHourlyOnDemandSpend": money(found["avg"]),
                "RecommendationDetailId": detail_id,
            }
        )
    total = {
        k: sum(float(d[k]) for d in details)
        for k in (
            "EstimatedSPCost",
            "EstimatedOnDemandCost",
            "EstimatedSavingsAmount",
            "HourlyCommitmentToPurchase",
            "EstimatedMonthlySavingsAmount",
            "EstimatedOnDemandCostWithCurrentCommitment",
        )
    }
    summary = {
        "EstimatedROI": percent(total["EstimatedSavingsAmount"], total["EstimatedSPCost"]),
        "CurrencyCode": "USD",
        "EstimatedTotalCost": money(total["EstimatedSPCost"]),
        "CurrentOnDemandSpend": money(total["EstimatedOnDemandCostWithCurrentCommitment"]),
        "EstimatedSavingsAmount": money(total["EstimatedSavingsAmount"]),
        "TotalRecommendationCount": str(len(details)),
        "DailyCommitmentToPurchase": money(24 * total["HourlyCommitmentToPurchase"]),
        "HourlyCommitmentToPurchase": money(total["HourlyCommitmentToPurchase"]),
        "EstimatedSavingsPercentage": percent(
            total["EstimatedSavingsAmount"], total["EstimatedOnDemandCost"]
        ),
        "EstimatedMonthlySavingsAmount": money(total["EstimatedMonthlySavingsAmount"]),
        "EstimatedOnDemandCostWithCurrentCommitment": money(
            total["EstimatedOnDemandCostWithCurrentCommitment"]
        ),
    }
    return details, summary


def get_savings_plans_purchase_recommendation(ctx: Context, **params: Any) -> Result:
    pager = _pager(ctx, "GetSavingsPlansPurchaseRecommendation", params)
    pager.offset(params.get("NextPageToken"))
    details, summary = _sp_details(ctx, params)
    asked = {
        k: params[k]
        for k in ("SavingsPlansType", "TermInYears", "PaymentOption", "LookbackPeriodInDays")
    }
    with ctx.store.transaction():  # what GetSavingsPlanPurchaseRecommendationDetails reads
        for detail in details:
            key = f"{ctx.account_id}::{detail['RecommendationDetailId']}"
            ctx.store.put(
                DETAILS,
                key,
                {
                    "params": {**asked, "AccountScope": params.get("AccountScope") or "PAYER"},
                    "detail": detail,
                },
            )
    page, token = pager.items(details, params.get("NextPageToken"))
    now = ctx.clock.now()
    out: Result = {
        "Metadata": {
            "RecommendationId": _id(ctx.account_id, "sp", *asked.values()),
            "GenerationTimestamp": f"{now:%Y-%m-%dT%H:00:00Z}",
            "AdditionalMetadata": "From the bill's on-demand usage over the lookback period",
        },
        "SavingsPlansPurchaseRecommendation": {
            "AccountScope": params.get("AccountScope") or "PAYER",
            **asked,
            "SavingsPlansPurchaseRecommendationDetails": page,
            "SavingsPlansPurchaseRecommendationSummary": summary,
        },
    }
    if token:
        out["NextPageToken"] = token
    return out


def get_savings_plan_purchase_recommendation_details(
    ctx: Context, RecommendationDetailId: str
) -> Result:
    record = ctx.store.get(DETAILS, f"{ctx.account_id}::{RecommendationDetailId}")
    if record is None:
        raise invalid(f"No recommendation detail {RecommendationDetailId}.")
    asked, detail = record["params"], record["detail"]
    data = {
        **{k: v for k, v in asked.items()},
        **{
            k: v
            for k, v in detail.items()
            if k not in ("SavingsPlansDetails", "RecommendationDetailId")
        },
        **{k: v for k, v in detail["SavingsPlansDetails"].items()},
        "GenerationTimestamp": f"{ctx.clock.now():%Y-%m-%dT%H:00:00Z}",
        "ExistingHourlyCommitment": "0",
    }
    return {"RecommendationDetailId": RecommendationDetailId, "RecommendationDetailData": data}


def start_savings_plans_purchase_recommendation_generation(ctx: Context) -> Result:
    now = f"{ctx.clock.now():%Y-%m-%dT%H:%M:%SZ}"
    rid = str(uuid.uuid4())
    record = {
        "RecommendationId": rid,
        "GenerationStatus": "SUCCEEDED",
        "GenerationStartedTime": now,
        "GenerationCompletionTime": now,
        "EstimatedCompletionTime": now,
    }
    ctx.store.put(GENERATIONS, f"{ctx.account_id}::{now}::{rid}", record)
    return {"RecommendationId": rid, "GenerationStartedTime": now, "EstimatedCompletionTime": now}


def list_savings_plans_purchase_recommendation_generation(ctx: Context, **params: Any) -> Result:
    pager = _pager(ctx, "ListSavingsPlansPurchaseRecommendationGeneration", params)
    found = [
        r.value
        for r in ctx.store.scan(GENERATIONS, f"{ctx.account_id}::")
        if params.get("GenerationStatus") in (None, r.value["GenerationStatus"])
        and (
            not params.get("RecommendationIds")
            or r.value["RecommendationId"] in params["RecommendationIds"]
        )
    ]
    return pager.answer("GenerationSummaryList", found, params.get("NextPageToken"))


OPERATIONS: dict[str, Handler] = {
    "GetReservationPurchaseRecommendation": get_reservation_purchase_recommendation,
    "GetSavingsPlansPurchaseRecommendation": get_savings_plans_purchase_recommendation,
    "GetSavingsPlanPurchaseRecommendationDetails": get_savings_plan_purchase_recommendation_details,
    "StartSavingsPlansPurchaseRecommendationGeneration": (
        start_savings_plans_purchase_recommendation_generation
    ),
    "ListSavingsPlansPurchaseRecommendationGeneration": (
        list_savings_plans_purchase_recommendation_generation
    ),
}
