"""Commitment purchase analyses (`ce`): StartCommitmentPurchaseAnalysis,
GetCommitmentPurchaseAnalysis and ListCommitmentPurchaseAnalyses. An analysis replays the
bill's eligible Savings Plans spend of LookBackTimePeriod, day by day, under an hourly
commitment (billing/queries/purchases.py commitment_outcome): MAX_SAVINGS the commitment
the recommendations would buy (the lowest day, used in full), CUSTOM_COMMITMENT the
SavingsPlansToAdd commitments, TARGET_AVERAGE_COVERAGE the commitment whose average
coverage reaches SavingsPlansTargetCoverage. It is computed when started, so it is
SUCCEEDED at once (its times are the emulator clock's); analyses are kept in the store."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from bcm_local.billing.queries import purchases
from bcm_local.billing.queries.commitments import money, percent
from bcm_local.billing.queries.timespan import Span, invalid
from bcm_local.billing.usage.commitments import TERM_HOURS, UPFRONT_SHARE
from bcm_local.runtime import Context
from bcm_local.services.ce import bills
from bcm_local.services.ce.paging import Pager
from bcm_local.services.registry import Handler
from bcm_local.wire.errors import AwsError

Result = dict[str, Any]
NS = "ce-commitment-analyses"


def _commitment(kind: str, config: Result, days: list[tuple[Any, float, float]]) -> float:
    if kind == "CUSTOM_COMMITMENT":
        return sum(float(p.get("SavingsPlansCommitment") or 0) for p in config["SavingsPlansToAdd"])
    if kind == "TARGET_AVERAGE_COVERAGE":
        target = float(config.get("SavingsPlansTargetCoverage") or 0) / 100.0
        if not 0 < target <= 1:
            raise invalid("SavingsPlansTargetCoverage must be between 0 and 100.")
        low, high = 0.0, max((plan for _, plan, _ in days), default=0.0) / 24.0
        for _ in range(60):  # coverage grows with the commitment: bisect it
            mid = (low + high) / 2
            if purchases.commitment_outcome(days, mid)["coverage"] < target:
                low = mid
            else:
                high = mid
        return high
    return min((plan for _, plan, _ in days), default=0.0) / 24.0


def _details(ctx: Context, config: Result) -> Result:
    added = config["SavingsPlansToAdd"]
    if not added:
        raise invalid("SavingsPlansToAdd must name at least one Savings Plan.")
    plan = added[0]
    term = purchases.TERMS[plan.get("TermInYears") or "ONE_YEAR"]
    payment = purchases.PAYMENTS.get(plan.get("PaymentOption") or "NO_UPFRONT")
    if payment is None:
        raise invalid("PaymentOption must be NO_UPFRONT, PARTIAL_UPFRONT or ALL_UPFRONT.")
    span = Span.of(config["LookBackTimePeriod"])
    bill = bills.for_call(ctx)
    bills.available(bill, span, ctx.clock.now())
    win = purchases.Window(span.start, span.end, (span.end - span.start) // timedelta(days=1))
    where = "TRUE"
    if config.get("AccountScope") == "LINKED" and config.get("AccountId"):
        where = '"LINKED_ACCOUNT" = \'' + str(config["AccountId"]).replace("'", "''") + "'"
    days = purchases.daily_spend(bill, win, where, term)
    commitment = _commitment(config["AnalysisType"], config, days)
    found = purchases.commitment_outcome(days, commitment)
    daily = [cost / 24.0 for _, _, cost in days]
    return {
        "CurrencyCode": "USD",
        "LookbackPeriodInHours": money(found["hours"]),
        "CurrentAverageCoverage": "0",
        "CurrentAverageHourlyOnDemandSpend": money(found["on_demand"] / found["hours"]),
        "CurrentMaximumHourlyOnDemandSpend": money(max(daily, default=0.0)),
        "CurrentMinimumHourlyOnDemandSpend": money(min(daily, default=0.0)),
        "CurrentOnDemandSpend": money(found["on_demand"]),
        "ExistingHourlyCommitment": "0",
        "HourlyCommitmentToPurchase": money(commitment),
        "EstimatedAverageCoverage": percent(found["coverage"], 1.0),
        "EstimatedAverageUtilization": percent(found["utilization"], 1.0),
        "EstimatedMonthlySavingsAmount": money(found["saving"] / found["hours"] * 730),
        "EstimatedOnDemandCost": money(found["on_demand_after"]),
        "EstimatedOnDemandCostWithCurrentCommitment": money(found["on_demand"]),
        "EstimatedROI": percent(found["saving"], found["commitment_cost"]),
        "EstimatedSavingsAmount": money(found["saving"]),
        "EstimatedSavingsPercentage": percent(found["saving"], found["on_demand"]),
        "EstimatedCommitmentCost": money(found["commitment_cost"]),
        "LatestUsageTimestamp": f"{span.end - timedelta(hours=1):%Y-%m-%dT%H:00:00Z}",
        "UpfrontCost": money(commitment * TERM_HOURS[term] * UPFRONT_SHARE[payment]),
        "AdditionalMetadata": "The bill's eligible spend of the lookback, replayed day by day",
        "MetricsOverLookbackPeriod": [
            {
                "StartTime": f"{m['day']:%Y-%m-%dT%H:%M:%SZ}",
                "EstimatedOnDemandCost": money(m["on_demand_after"]),
                "CurrentCoverage": "0",
                "EstimatedCoverage": percent(m["coverage"], 1.0),
                "EstimatedNewCommitmentUtilization": percent(m["utilization"], 1.0),
            }
            for m in found["metrics"]
        ],
    }


def start_commitment_purchase_analysis(
    ctx: Context, CommitmentPurchaseAnalysisConfiguration: Result
) -> Result:
    config = CommitmentPurchaseAnalysisConfiguration.get(
        "SavingsPlansPurchaseAnalysisConfiguration"
    )
    if not config:
        raise invalid(
            "CommitmentPurchaseAnalysisConfiguration needs a "
            "SavingsPlansPurchaseAnalysisConfiguration."
        )
    details = _details(ctx, config)
    now = f"{ctx.clock.now():%Y-%m-%dT%H:%M:%SZ}"
    analysis = str(uuid.uuid4())
    record = {
        "AnalysisId": analysis,
        "AnalysisStatus": "SUCCEEDED",
        "AnalysisStartedTime": now,
        "AnalysisCompletionTime": now,
        "EstimatedCompletionTime": now,
        "CommitmentPurchaseAnalysisConfiguration": CommitmentPurchaseAnalysisConfiguration,
        "AnalysisDetails": {"SavingsPlansPurchaseAnalysisDetails": details},
    }
    ctx.store.put(NS, f"{ctx.account_id}::{analysis}", record)
    return {"AnalysisId": analysis, "AnalysisStartedTime": now, "EstimatedCompletionTime": now}


def get_commitment_purchase_analysis(ctx: Context, AnalysisId: str) -> Result:
    record = ctx.store.get(NS, f"{ctx.account_id}::{AnalysisId}")
    if record is None:
        raise AwsError("AnalysisNotFoundException", f"No analysis {AnalysisId}.")
    return record


def list_commitment_purchase_analyses(ctx: Context, **params: Any) -> Result:
    rest = {k: v for k, v in params.items() if k != "NextPageToken"}
    pager = Pager(
        ctx.store,
        "ListCommitmentPurchaseAnalyses",
        ctx.account_id,
        rest,
        params.get("PageSize") or 20,
    )
    found = [
        {k: v for k, v in r.value.items() if k != "AnalysisDetails"}
        for r in ctx.store.scan(NS, f"{ctx.account_id}::")
        if params.get("AnalysisStatus") in (None, r.value["AnalysisStatus"])
        and (not params.get("AnalysisIds") or r.value["AnalysisId"] in params["AnalysisIds"])
    ]
    return pager.answer("AnalysisSummaryList", found, params.get("NextPageToken"))


OPERATIONS: dict[str, Handler] = {
    "StartCommitmentPurchaseAnalysis": start_commitment_purchase_analysis,
    "GetCommitmentPurchaseAnalysis": get_commitment_purchase_analysis,
    "ListCommitmentPurchaseAnalyses": list_commitment_purchase_analyses,
}
