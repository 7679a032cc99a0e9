"""Purchase recommendations (`ce`) on a real server with boto3: the reservations and the
Savings Plans commitment recommended, and their savings, recomputed from the delivered
CUR 2.0 file's on-demand usage over the lookback by the documented method
(docs/ce-recommendations.md) and the catalog's public discounts."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bcm_local.billing.usage.commitments import LAMBDA_SP_DISCOUNT, RI_DISCOUNT, SP_DISCOUNT
from bcm_local.testing import ServerProcess
from tests import ce_support as cs

INSTANCES = re.compile(
    r"(^|-)(BoxUsage|InstanceUsage|Multi-AZUsage|NodeUsage|HeavyUsage|DedicatedUsage)"
)


@pytest.fixture(scope="module")
def bill() -> Iterator[cs.Delivered]:
    with ServerProcess(env=cs.ENV) as server:
        yield cs.Delivered(server)


def _window(bill: cs.Delivered, days: int) -> tuple[object, object, list[object]]:
    end = bill.now.replace(hour=0, minute=0, second=0)
    start = end - timedelta(days=days)
    return start, end, [start + timedelta(days=i) for i in range(days)]


def test_reservations_recommended_are_the_lowest_days_instances(bill: cs.Delivered) -> None:
    service = "Amazon Relational Database Service"
    answer = bill.ce.get_reservation_purchase_recommendation(
        Service=service, LookbackPeriodInDays="THIRTY_DAYS", PaymentOption="PARTIAL_UPFRONT"
    )
    start, end, days = _window(bill, 30)
    hours: dict[str, dict[object, float]] = defaultdict(lambda: defaultdict(float))
    cost: dict[str, float] = defaultdict(float)
    for r in bill.rows:
        d = r.dims
        if not (start <= r.t < end) or d["SERVICE"] != service or d["RECORD_TYPE"] != "Usage":
            continue
        if INSTANCES.search(d["USAGE_TYPE"]):
            hours[d["INSTANCE_TYPE"]][r.t.replace(hour=0)] += r.metrics["UsageQuantity"]
            cost[d["INSTANCE_TYPE"]] += r.metrics["UnblendedCost"]
    want = {}
    for itype, by_day in hours.items():
        count = math.floor(min(by_day.get(day, 0.0) for day in days) / 24 + 1e-9)
        if count:
            rate = cost[itype] / sum(by_day.values())
            want[itype] = (count, count * rate * RI_DISCOUNT[("1yr", "Partial Upfront")] * 730)
    assert want
    (recommendation,) = answer["Recommendations"]
    got = {
        d["InstanceDetails"]["RDSInstanceDetails"]["InstanceType"]: (
            int(d["RecommendedNumberOfInstancesToPurchase"]),
            float(d["EstimatedMonthlySavingsAmount"]),
        )
        for d in recommendation["RecommendationDetails"]
    }
    assert set(got) == set(want)
    for itype, (count, saving) in want.items():
        assert got[itype][0] == count
        assert got[itype][1] == pytest.approx(saving, abs=1e-6)
    detail = recommendation["RecommendationDetails"][0]
    assert float(detail["UpfrontCost"]) > 0 and float(detail["EstimatedBreakEvenInMonths"]) > 0
    summary = recommendation["RecommendationSummary"]
    assert float(summary["TotalEstimatedMonthlySavingsAmount"]) == pytest.approx(
        sum(s for _, s in want.values()), abs=1e-6
    )


def test_the_savings_plan_commitment_is_the_lowest_days_spend(bill: cs.Delivered) -> None:
    answer = bill.ce.get_savings_plans_purchase_recommendation(
        SavingsPlansType="COMPUTE_SP",
        TermInYears="ONE_YEAR",
        PaymentOption="NO_UPFRONT",
        LookbackPeriodInDays="SEVEN_DAYS",
    )
    start, end, days = _window(bill, 7)
    covered = {
        r.dims["USAGE_TYPE"]
        for r in bill.rows
        if r.dims["RECORD_TYPE"] == "SavingsPlanCoveredUsage"
    }
    plan: dict[object, float] = defaultdict(float)
    on_demand = 0.0
    for r in bill.rows:
        d = r.dims
        if not (start <= r.t < end) or d["RECORD_TYPE"] != "Usage":
            continue
        if d["USAGE_TYPE"] in covered or re.search(r"(^|-)BoxUsage", d["USAGE_TYPE"]):
            off = LAMBDA_SP_DISCOUNT if d["SERVICE"] == "AWS Lambda" else SP_DISCOUNT
            plan[r.t.replace(hour=0)] += r.metrics["UnblendedCost"] * (1 - off["1yr"])
            on_demand += r.metrics["UnblendedCost"]
    commitment = min(plan.get(day, 0.0) for day in days) / 24
    sp_cost = commitment * 7 * 24
    saving = sp_cost * on_demand / sum(plan.values()) - sp_cost
    found = answer["SavingsPlansPurchaseRecommendation"]
    (detail,) = found["SavingsPlansPurchaseRecommendationDetails"]
    assert float(detail["HourlyCommitmentToPurchase"]) == pytest.approx(commitment, abs=1e-6)
    assert float(detail["EstimatedSPCost"]) == pytest.approx(sp_cost, abs=1e-6)
    assert float(detail["EstimatedSavingsAmount"]) == pytest.approx(saving, abs=1e-6)
    assert float(detail["EstimatedOnDemandCostWithCurrentCommitment"]) == pytest.approx(
        on_demand, abs=1e-6
    )
    kept = bill.ce.get_savings_plan_purchase_recommendation_details(
        RecommendationDetailId=detail["RecommendationDetailId"]
    )["RecommendationDetailData"]
    assert kept["HourlyCommitmentToPurchase"] == detail["HourlyCommitmentToPurchase"]
    summary = found["SavingsPlansPurchaseRecommendationSummary"]
    assert summary["TotalRecommendationCount"] == "1"


def test_generations_and_errors(bill: cs.Delivered) -> None:
    ce = bill.ce
    started = ce.start_savings_plans_purchase_recommendation_generation()
    listed = ce.list_savings_plans_purchase_recommendation_generation(
        RecommendationIds=[started["RecommendationId"]]
    )["GenerationSummaryList"]
    assert [g["GenerationStatus"] for g in listed] == ["SUCCEEDED"]
    for call, kw in (
        (ce.get_reservation_purchase_recommendation, {"Service": "Amazon S3"}),
        (
            ce.get_reservation_purchase_recommendation,
            {"Service": "Amazon Relational Database Service", "PaymentOption": "HEAVY_UTILIZATION"},
        ),
        (
            ce.get_savings_plans_purchase_recommendation,
            {
                "SavingsPlansType": "COMPUTE_SP",
                "TermInYears": "ONE_YEAR",
                "PaymentOption": "NO_UPFRONT",
                "LookbackPeriodInDays": "SIXTY_DAYS",
                "Filter": {"Dimensions": {"Key": "USAGE_TYPE", "Values": ["x"]}},
            },
        ),
    ):
        with pytest.raises(ClientError) as caught:
            call(**kw)
        assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_commitment_purchase_analyses_replay_the_lookback(bill: cs.Delivered) -> None:
    ce = bill.ce
    start, end, _ = _window(bill, 7)
    period = {"Start": f"{start:%Y-%m-%d}", "End": f"{end:%Y-%m-%d}"}
    plan = {
        "PaymentOption": "NO_UPFRONT",
        "SavingsPlansType": "COMPUTE_SP",
        "TermInYears": "ONE_YEAR",
    }

    def analyse(kind: str, **extra: Any) -> dict[str, Any]:
        config = {
            "AnalysisType": kind,
            "LookBackTimePeriod": period,
            "SavingsPlansToAdd": [{**plan, **extra.pop("commitment", {})}],
            **extra,
        }
        started = ce.start_commitment_purchase_analysis(
            CommitmentPurchaseAnalysisConfiguration={
                "SavingsPlansPurchaseAnalysisConfiguration": config
            }
        )
        got = ce.get_commitment_purchase_analysis(AnalysisId=started["AnalysisId"])
        assert got["AnalysisStatus"] == "SUCCEEDED"
        return got["AnalysisDetails"]["SavingsPlansPurchaseAnalysisDetails"]  # type: ignore[no-any-return]

    recommended = ce.get_savings_plans_purchase_recommendation(
        SavingsPlansType="COMPUTE_SP",
        TermInYears="ONE_YEAR",
        PaymentOption="NO_UPFRONT",
        LookbackPeriodInDays="SEVEN_DAYS",
    )["SavingsPlansPurchaseRecommendation"]["SavingsPlansPurchaseRecommendationDetails"][0]
    best = analyse("MAX_SAVINGS")
    assert float(best["HourlyCommitmentToPurchase"]) == pytest.approx(
        float(recommended["HourlyCommitmentToPurchase"]), abs=1e-9
    )
    assert float(best["EstimatedAverageUtilization"]) == pytest.approx(100, abs=1e-6)
    assert float(best["EstimatedSavingsAmount"]) == pytest.approx(
        float(recommended["EstimatedSavingsAmount"]), abs=1e-6
    )
    assert len(best["MetricsOverLookbackPeriod"]) == 7
    # ten times that commitment: the days use what they spend, the rest is paid unused
    big = 10 * float(recommended["HourlyCommitmentToPurchase"])
    custom = analyse("CUSTOM_COMMITMENT", commitment={"SavingsPlansCommitment": big})
    spend = float(recommended["EstimatedOnDemandCostWithCurrentCommitment"])
    assert float(custom["EstimatedCommitmentCost"]) == pytest.approx(big * 7 * 24, abs=1e-6)
    assert float(custom["EstimatedAverageCoverage"]) == pytest.approx(100, abs=1e-6)
    assert float(custom["EstimatedOnDemandCost"]) == pytest.approx(0, abs=1e-6)
    assert float(custom["CurrentOnDemandSpend"]) == pytest.approx(spend, abs=1e-6)
    assert float(custom["EstimatedAverageUtilization"]) < 20
    half = analyse("TARGET_AVERAGE_COVERAGE", SavingsPlansTargetCoverage=50)
    assert float(half["EstimatedAverageCoverage"]) == pytest.approx(50, abs=1e-3)
    listed = ce.list_commitment_purchase_analyses()["AnalysisSummaryList"]
    assert len(listed) == 3 and {a["AnalysisStatus"] for a in listed} == {"SUCCEEDED"}
    with pytest.raises(ClientError) as caught:
        ce.get_commitment_purchase_analysis(AnalysisId="00000000-0000-0000-0000-000000000000")
    assert caught.value.response["Error"]["Code"] == "AnalysisNotFoundException"
