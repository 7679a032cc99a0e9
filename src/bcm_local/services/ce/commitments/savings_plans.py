"""GetSavingsPlansUtilization, GetSavingsPlansUtilizationDetails and
GetSavingsPlansCoverage, from the bill's Savings Plan recurring fee and covered usage rows
(see services/ce/commitments/request.py for what the commitment operations share)."""

from __future__ import annotations

from typing import Any

from bcm_local.billing.expressions.dimensions import column
from bcm_local.billing.queries import commitments as figures
from bcm_local.billing.queries.timespan import Bucket, invalid
from bcm_local.runtime import Context
from bcm_local.services.ce.commitments import request as shared
from bcm_local.services.registry import Handler

Result = dict[str, Any]
SP_FILTERS = (
    "LINKED_ACCOUNT",
    "SAVINGS_PLAN_ARN",
    "SAVINGS_PLANS_TYPE",
    "REGION",
    "PAYMENT_OPTION",
    "INSTANCE_TYPE_FAMILY",
)
SP_COVERAGE = {"INSTANCE_FAMILY": "INSTANCE_TYPE_FAMILY", "REGION": "REGION", "SERVICE": "SERVICE"}


def get_savings_plans_utilization(ctx: Context, **params: Any) -> Result:
    bill, span, granularity = shared.bill_of(ctx, params)
    where = shared.where_of(params.get("Filter"), SP_FILTERS)
    cursor = bill.cursor()
    entries = []
    for bucket in shared.periods(span, granularity or "DAILY"):
        time, args = shared.within(bucket)
        found = figures.sums(
            cursor, "commitments", figures.SP_SUMS, f"({where}) AND {time}", [], args
        )[0][1]
        entries.append(
            {"TimePeriod": shared.label(bucket), **figures.savings_plan_aggregates(found)}
        )
    sort = params.get("SortBy")
    entries = shared.ordered(entries, sort, lambda e: _sp_value(e, sort["Key"] if sort else ""))
    whole_time, whole_args = shared.within(Bucket(span.start, span.end))
    total = figures.sums(
        cursor, "commitments", figures.SP_SUMS, f"({where}) AND {whole_time}", [], whole_args
    )[0][1]
    return {
        "SavingsPlansUtilizationsByTime": entries,
        "Total": figures.savings_plan_aggregates(total),
    }


def _sp_value(entry: Result, key: str) -> float:
    for part in ("Utilization", "Savings", "AmortizedCommitment"):
        if key in entry.get(part, {}):
            return float(entry[part][key])
    return 0.0


def get_savings_plans_utilization_details(ctx: Context, **params: Any) -> Result:
    bill, span, _ = shared.bill_of(ctx, {k: v for k, v in params.items() if k != "Granularity"})
    where = shared.where_of(params.get("Filter"), SP_FILTERS)
    time, args = shared.within(Bucket(span.start, span.end))
    scope = f"({where}) AND {time}"
    cursor = bill.cursor()
    attributes = {
        str(r[0]): {
            "AccountId": str(r[1]),
            "AccountName": str(r[2]),
            "StartDate": str(r[3] or ""),
            "EndDate": str(r[4] or ""),
            "SavingsPlansType": str(r[5] or ""),
            "PaymentOption": str(r[6] or ""),
            "PurchaseTerm": str(r[7] or ""),
            "Region": str(r[8] or ""),
            "InstanceFamily": str(r[9] or ""),
            "RecurringHourlyFee": figures.money(float(r[10] or 0)),
        }
        for r in cursor.execute(
            'SELECT "SAVINGS_PLAN_ARN", any_value("LINKED_ACCOUNT"), '
            'any_value("LINKED_ACCOUNT_NAME"), any_value(savings_plan_start_time), '
            "any_value(savings_plan_end_time), any_value(savings_plan_offering_type), "
            "any_value(savings_plan_payment_option), any_value(savings_plan_purchase_term), "
            "any_value(savings_plan_region), any_value(savings_plan_instance_type_family), "
            "max(savings_plan_recurring_commitment_for_billing_period) "
            f"FROM commitments WHERE {scope} AND \"SAVINGS_PLAN_ARN\" <> '' GROUP BY 1",
            args,
        ).fetchall()
    }
    details = [
        {
            "SavingsPlanArn": str(key[0]),
            "Attributes": attributes.get(str(key[0]), {}),
            **figures.savings_plan_aggregates(found),
        }
        for key, found in figures.sums(
            cursor, "commitments", figures.SP_SUMS, scope, ['"SAVINGS_PLAN_ARN"'], args
        )
        if key[0]
    ]
    sort = params.get("SortBy")
    details = shared.ordered(details, sort, lambda d: _sp_value(d, sort["Key"] if sort else ""))
    total = figures.sums(cursor, "commitments", figures.SP_SUMS, scope, [], args)[0][1]
    page, token = shared.paged(
        ctx, "GetSavingsPlansUtilizationDetails", params, details, "NextToken"
    )
    out: Result = {
        "SavingsPlansUtilizationDetails": page,
        "Total": figures.savings_plan_aggregates(total),
        "TimePeriod": shared.label(Bucket(span.start, span.end)),
    }
    if token:
        out["NextToken"] = token
    return out


_SP_COVERAGE = {
    "covered": "sum(CASE WHEN \"RECORD_TYPE\" = 'SavingsPlanCoveredUsage' "
    "THEN AmortizedCost ELSE 0 END)",
    "on_demand": "sum(CASE WHEN \"RECORD_TYPE\" = 'Usage' THEN UnblendedCost ELSE 0 END)",
}


def get_savings_plans_coverage(ctx: Context, **params: Any) -> Result:
    bill, span, granularity = shared.bill_of(ctx, params)
    keys = [g.get("Key", "") for g in params.get("GroupBy") or []]
    for key in keys:
        if key not in SP_COVERAGE:
            raise invalid("GetSavingsPlansCoverage groups by INSTANCE_FAMILY, REGION or SERVICE.")
    metrics = params.get("Metrics") or ["SpendCoveredBySavingsPlans"]
    if metrics != ["SpendCoveredBySavingsPlans"]:
        raise invalid("The only valid value of Metrics is SpendCoveredBySavingsPlans.")
    where = shared.where_of(
        params.get("Filter"),
        ("LINKED_ACCOUNT", "REGION", "SERVICE", "INSTANCE_FAMILY"),
        columns={"INSTANCE_FAMILY": column("INSTANCE_TYPE_FAMILY")},
    )
    eligible = (
        '("USAGE_TYPE" IN (SELECT DISTINCT "USAGE_TYPE" FROM facts WHERE "RECORD_TYPE" = '
        "'SavingsPlanCoveredUsage') OR regexp_matches(\"USAGE_TYPE\", '(^|-)BoxUsage')) AND "
        "\"RECORD_TYPE\" IN ('Usage', 'SavingsPlanCoveredUsage')"
    )
    entries = []
    for bucket in shared.periods(span, granularity):
        time, args = shared.within(bucket)
        scope = f"({where}) AND {eligible} AND {time}"
        found = figures.sums(
            bill.cursor(),
            "facts",
            _SP_COVERAGE,
            scope,
            [column(SP_COVERAGE[k]) for k in keys],
            args,
        )
        for key, sums in found:
            if keys and not any(key):
                continue
            total = sums["covered"] + sums["on_demand"]
            entries.append(
                {
                    "Attributes": {
                        shared.attribute(k): str(v) for k, v in zip(keys, key, strict=True)
                    },
                    "Coverage": {
                        "SpendCoveredBySavingsPlans": figures.money(sums["covered"]),
                        "OnDemandCost": figures.money(sums["on_demand"]),
                        "TotalCost": figures.money(total),
                        "CoveragePercentage": figures.percent(sums["covered"], total),
                    },
                    "TimePeriod": shared.label(bucket),
                }
            )
    sort = params.get("SortBy")
    if sort:
        name = {"SpendCoveredBySavingsPlan": "SpendCoveredBySavingsPlans"}.get(
            sort["Key"], sort["Key"]
        )
        entries = shared.ordered(entries, sort, lambda e: _coverage_value(e, name))
    page, token = shared.paged(ctx, "GetSavingsPlansCoverage", params, entries, "NextToken")
    out: Result = {"SavingsPlansCoverages": page}
    if token:
        out["NextToken"] = token
    return out


def _coverage_value(entry: Result, key: str) -> Any:
    if key in entry["Coverage"]:
        return float(entry["Coverage"][key])
    return entry["Attributes"].get(key[:1].lower() + key[1:], "")


OPERATIONS: dict[str, Handler] = {
    "GetSavingsPlansUtilization": get_savings_plans_utilization,
    "GetSavingsPlansUtilizationDetails": get_savings_plans_utilization_details,
    "GetSavingsPlansCoverage": get_savings_plans_coverage,
}
