"""Reservation and Savings Plans utilization and coverage (`ce`) on a real server with boto3
and the AWS CLI: every figure recomputed from the delivered CUR 2.0 file's commitment
columns by AWS's definitions (the RIFee and DiscountedUsage rows, the Savings Plan
recurring fee and covered usage rows), never from the emulator's own code."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from bcm_local.testing import ServerProcess
from tests import ce_support as cs
from tests.conftest import code_of, run_cli

RDS = {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Relational Database Service"]}}
SPAN = {"Start": "2026-03-01", "End": "2026-05-28"}
CLOSE = 1e-6


@pytest.fixture(scope="module")
def bill() -> Iterator[cs.Delivered]:
    with ServerProcess(env=cs.ENV) as server:
        yield cs.Delivered(server)


@pytest.fixture(scope="module")
def rows(bill: cs.Delivered) -> list[dict[str, Any]]:
    return bill.table.to_pylist()  # type: ignore[no-any-return]


def _month(row: dict[str, Any]) -> str:
    return f"{row['line_item_usage_start_date']:%Y-%m}"


def _by_month(rows: list[dict[str, Any]], kind: str, value: Any) -> dict[str, float]:
    found: dict[str, float] = defaultdict(float)
    for r in rows:
        if r["line_item_line_item_type"] == kind:
            found[_month(r)] += float(value(r) or 0.0)
    return dict(found)


def test_reservation_utilization_is_the_files_ri_rows(
    bill: cs.Delivered, rows: list[dict[str, Any]]
) -> None:
    answer = bill.ce.get_reservation_utilization(TimePeriod=SPAN, Granularity="MONTHLY", Filter=RDS)
    purchased = _by_month(rows, "RIFee", lambda r: r["line_item_usage_amount"])
    used = _by_month(rows, "DiscountedUsage", lambda r: r["line_item_usage_amount"])
    recurring = _by_month(rows, "RIFee", lambda r: r["line_item_unblended_cost"])
    upfront = _by_month(
        rows, "RIFee", lambda r: r["reservation_amortized_upfront_fee_for_billing_period"]
    )
    on_demand = _by_month(rows, "DiscountedUsage", lambda r: r["pricing_public_on_demand_cost"])
    assert purchased and used
    for entry in answer["UtilizationsByTime"]:
        month = entry["TimePeriod"]["Start"][:7]
        total = entry["Total"]
        fee = recurring.get(month, 0.0) + upfront.get(month, 0.0)
        assert float(total["PurchasedHours"]) == pytest.approx(purchased.get(month, 0), abs=CLOSE)
        assert float(total["TotalActualHours"]) == pytest.approx(used.get(month, 0), abs=CLOSE)
        assert float(total["AmortizedRecurringFee"]) == pytest.approx(
            recurring.get(month, 0), abs=CLOSE
        )
        assert float(total["TotalAmortizedFee"]) == pytest.approx(fee, abs=CLOSE)
        assert float(total["OnDemandCostOfRIHoursUsed"]) == pytest.approx(
            on_demand.get(month, 0), abs=CLOSE
        )
        assert float(total["NetRISavings"]) == pytest.approx(
            on_demand.get(month, 0) - fee, abs=CLOSE
        )
        if purchased.get(month):
            assert float(total["UtilizationPercentage"]) == pytest.approx(
                100 * used[month] / purchased[month], abs=CLOSE
            )
    whole = answer["Total"]
    assert float(whole["PurchasedHours"]) == pytest.approx(sum(purchased.values()), abs=CLOSE)
    # the days add up to the months: a RIFee row is spread over its period's hours
    daily = bill.ce.get_reservation_utilization(TimePeriod=SPAN, Granularity="DAILY", Filter=RDS)
    days = sum(float(e["Total"]["PurchasedHours"]) for e in daily["UtilizationsByTime"])
    assert days == pytest.approx(sum(purchased.values()), abs=1e-6)
    # without a SERVICE, AWS answers for EC2 (the scenario reserves RDS only)
    ec2 = bill.ce.get_reservation_utilization(TimePeriod=SPAN, Granularity="MONTHLY")
    assert float(ec2["Total"]["PurchasedHours"]) == 0


def test_reservation_utilization_by_subscription(
    bill: cs.Delivered, rows: list[dict[str, Any]]
) -> None:
    answer = bill.ce.get_reservation_utilization(
        TimePeriod=SPAN, GroupBy=[{"Type": "DIMENSION", "Key": "SUBSCRIPTION_ID"}], Filter=RDS
    )
    (entry,) = answer["UtilizationsByTime"]
    subscriptions = {
        r["reservation_subscription_id"] for r in rows if r["line_item_line_item_type"] == "RIFee"
    }
    assert {g["Value"] for g in entry["Groups"]} == subscriptions
    group = entry["Groups"][0]
    fee_rows = [r for r in rows if r["reservation_subscription_id"] == group["Value"]]
    assert (
        group["Attributes"]["leaseId"]
        == fee_rows[0]["reservation_reservation_a_r_n"].rsplit(":", 1)[-1]
    )
    assert group["Attributes"]["accountId"] == fee_rows[0]["line_item_usage_account_id"]
    hours = sum(
        r["line_item_usage_amount"] for r in fee_rows if r["line_item_line_item_type"] == "RIFee"
    )
    assert float(group["Utilization"]["PurchasedHours"]) == pytest.approx(hours, abs=CLOSE)


def test_reservation_coverage_counts_instance_hours(
    bill: cs.Delivered, rows: list[dict[str, Any]]
) -> None:
    answer = bill.ce.get_reservation_coverage(
        TimePeriod=SPAN, Granularity="MONTHLY", Filter=RDS, Metrics=["Hour", "Cost"]
    )
    instance = re.compile(r"(^|-)(BoxUsage|InstanceUsage|Multi-AZUsage|NodeUsage)")
    rds = [
        r
        for r in rows
        if r["line_item_product_code"] == "AmazonRDS"
        and instance.search(r["line_item_usage_type"] or "")
    ]
    reserved = _by_month(rds, "DiscountedUsage", lambda r: r["line_item_usage_amount"])
    on_demand = _by_month(rds, "Usage", lambda r: r["line_item_usage_amount"])
    cost = _by_month(rds, "Usage", lambda r: r["line_item_unblended_cost"])
    assert reserved
    for entry in answer["CoveragesByTime"]:
        month = entry["TimePeriod"]["Start"][:7]
        hours = entry["Total"]["CoverageHours"]
        assert float(hours["ReservedHours"]) == pytest.approx(reserved.get(month, 0), abs=CLOSE)
        assert float(hours["OnDemandHours"]) == pytest.approx(on_demand.get(month, 0), abs=CLOSE)
        total = reserved.get(month, 0) + on_demand.get(month, 0)
        assert float(hours["TotalRunningHours"]) == pytest.approx(total, abs=CLOSE)
        assert float(entry["Total"]["CoverageCost"]["OnDemandCost"]) == pytest.approx(
            cost.get(month, 0), abs=CLOSE
        )
    grouped = bill.ce.get_reservation_coverage(
        TimePeriod=SPAN, GroupBy=[{"Type": "DIMENSION", "Key": "INSTANCE_TYPE"}], Filter=RDS
    )
    (entry,) = grouped["CoveragesByTime"]
    types = {g["Attributes"]["instanceType"] for g in entry["Groups"]}
    assert types == {r["product_instance_type"] for r in rds}


def test_savings_plans_utilization_is_the_files_sp_rows(
    bill: cs.Delivered, rows: list[dict[str, Any]]
) -> None:
    answer = bill.ce.get_savings_plans_utilization(TimePeriod=SPAN, Granularity="MONTHLY")
    fee = "SavingsPlanRecurringFee"
    total = _by_month(rows, fee, lambda r: r["savings_plan_total_commitment_to_date"])
    used = _by_month(rows, fee, lambda r: r["savings_plan_used_commitment"])
    recurring = _by_month(rows, fee, lambda r: r["line_item_unblended_cost"])
    equivalent = _by_month(
        rows, "SavingsPlanCoveredUsage", lambda r: r["pricing_public_on_demand_cost"]
    )
    assert used
    for entry in answer["SavingsPlansUtilizationsByTime"]:
        month = entry["TimePeriod"]["Start"][:7]
        utilization = entry["Utilization"]
        assert float(utilization["TotalCommitment"]) == pytest.approx(
            total.get(month, 0), abs=CLOSE
        )
        assert float(utilization["UsedCommitment"]) == pytest.approx(used.get(month, 0), abs=CLOSE)
        assert float(utilization["UnusedCommitment"]) == pytest.approx(
            total.get(month, 0) - used.get(month, 0), abs=CLOSE
        )
        assert float(entry["Savings"]["OnDemandCostEquivalent"]) == pytest.approx(
            equivalent.get(month, 0), abs=CLOSE
        )
        assert float(entry["Savings"]["NetSavings"]) == pytest.approx(
            equivalent.get(month, 0) - recurring.get(month, 0), abs=CLOSE
        )
    details = bill.ce.get_savings_plans_utilization_details(TimePeriod=SPAN)
    arns = {
        r["savings_plan_savings_plan_a_r_n"] for r in rows if r["line_item_line_item_type"] == fee
    }
    assert {d["SavingsPlanArn"] for d in details["SavingsPlansUtilizationDetails"]} == arns
    assert float(details["Total"]["Utilization"]["UsedCommitment"]) == pytest.approx(
        sum(used.values()), abs=CLOSE
    )
    detail = details["SavingsPlansUtilizationDetails"][0]
    assert detail["Attributes"]["SavingsPlansType"] == "ComputeSavingsPlans"


def test_savings_plans_coverage_is_the_covered_spend(
    bill: cs.Delivered, rows: list[dict[str, Any]]
) -> None:
    answer = bill.ce.get_savings_plans_coverage(
        TimePeriod=SPAN, GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}]
    )
    covered = [r for r in rows if r["line_item_line_item_type"] == "SavingsPlanCoveredUsage"]
    spend = sum(r["savings_plan_savings_plan_effective_cost"] for r in covered)
    got = sum(
        float(c["Coverage"]["SpendCoveredBySavingsPlans"]) for c in answer["SavingsPlansCoverages"]
    )
    assert got == pytest.approx(spend, abs=CLOSE)
    for coverage in answer["SavingsPlansCoverages"]:
        data = coverage["Coverage"]
        assert float(data["TotalCost"]) == pytest.approx(
            float(data["SpendCoveredBySavingsPlans"]) + float(data["OnDemandCost"]), abs=CLOSE
        )
    assert {c["Attributes"]["service"] for c in answer["SavingsPlansCoverages"]}


def test_errors_are_aws_s(bill: cs.Delivered) -> None:
    ce = bill.ce
    both = {"Granularity": "MONTHLY", "GroupBy": [{"Type": "DIMENSION", "Key": "SUBSCRIPTION_ID"}]}
    assert code_of(ce.get_reservation_utilization, TimePeriod=SPAN, **both) == "ValidationException"
    either = {"Or": [RDS, {"Dimensions": {"Key": "REGION", "Values": ["us-east-1"]}}]}
    assert (
        code_of(ce.get_reservation_coverage, TimePeriod=SPAN, Filter=either)
        == "ValidationException"
    )
    usage = {"Dimensions": {"Key": "USAGE_TYPE", "Values": ["x"]}}
    assert code_of(ce.get_savings_plans_utilization, TimePeriod=SPAN, Filter=usage) == (
        "ValidationException"
    )
    assert code_of(ce.get_savings_plans_coverage, TimePeriod=SPAN, Granularity="HOURLY") == (
        "ValidationException"
    )
    early = {"Start": "2025-01-01", "End": "2025-02-01"}
    assert code_of(ce.get_savings_plans_utilization, TimePeriod=early) == "DataUnavailableException"


def test_the_cli_reads_the_same_figures(bill: cs.Delivered) -> None:
    env = {"AWS_ACCESS_KEY_ID": cs.ACCOUNT}
    cli = run_cli(
        bill.server.endpoint,
        "ce",
        "get-savings-plans-utilization",
        "--time-period",
        f"Start={SPAN['Start']},End={SPAN['End']}",
        env=env,
    )
    boto = bill.ce.get_savings_plans_utilization(TimePeriod=SPAN)
    assert cli["Total"] == boto["Total"]


@pytest.mark.parametrize(
    ("args", "member"),
    [
        (("get-reservation-coverage", "--time-period", "Start=2026-05-01,End=2026-05-27"), "Total"),
        (("get-rightsizing-recommendation", "--service", "AmazonEC2"), "Summary"),
        (
            (
                "get-reservation-purchase-recommendation",
                "--service",
                "Amazon Relational Database Service",
            ),
            "Recommendations",
        ),
        (
            (
                "get-savings-plans-purchase-recommendation",
                "--savings-plans-type",
                "COMPUTE_SP",
                "--term-in-years",
                "ONE_YEAR",
                "--payment-option",
                "NO_UPFRONT",
                "--lookback-period-in-days",
                "SEVEN_DAYS",
            ),
            "SavingsPlansPurchaseRecommendation",
        ),
        (("list-cost-allocation-tags",), "CostAllocationTags"),
        (("list-cost-category-definitions",), "CostCategoryReferences"),
    ],
)
def test_the_cli_calls_the_operations(
    bill: cs.Delivered, args: tuple[str, ...], member: str
) -> None:
    found = run_cli(bill.server.endpoint, "ce", *args, env={"AWS_ACCESS_KEY_ID": cs.ACCOUNT})
    assert member in found
