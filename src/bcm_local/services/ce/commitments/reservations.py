"""GetReservationUtilization and GetReservationCoverage: reservations' use and the
instance hours they cover, from the bill's RIFee and DiscountedUsage rows (see
services/ce/commitments/request.py for what the commitment operations share)."""

from __future__ import annotations

from typing import Any

from bcm_local.billing.expressions import filters
from bcm_local.billing.expressions.dimensions import column
from bcm_local.billing.queries import commitments as figures
from bcm_local.billing.queries.timespan import Bucket, invalid
from bcm_local.runtime import Context
from bcm_local.services.ce.commitments import request as shared
from bcm_local.services.registry import Handler

Result = dict[str, Any]
EC2 = "Amazon Elastic Compute Cloud - Compute"
RI_UTILIZATION_FILTERS = (
    "AZ",
    "CACHE_ENGINE",
    "DEPLOYMENT_OPTION",
    "INSTANCE_TYPE",
    "LINKED_ACCOUNT",
    "OPERATING_SYSTEM",
    "PLATFORM",
    "REGION",
    "SERVICE",
    "TENANCY",
)
RI_COVERAGE_FILTERS = (*RI_UTILIZATION_FILTERS, "DATABASE_ENGINE")
RI_COVERAGE_GROUPS = (
    "AZ",
    "CACHE_ENGINE",
    "DATABASE_ENGINE",
    "DEPLOYMENT_OPTION",
    "INSTANCE_TYPE",
    "INVOICING_ENTITY",
    "LINKED_ACCOUNT",
    "OPERATING_SYSTEM",
    "PLATFORM",
    "REGION",
    "TENANCY",
)


def _subscription_attributes(cursor: Any, where: str, args: list[Any]) -> dict[str, dict[str, str]]:
    """SUBSCRIPTION_ID -> the reservation's attributes, from its CUR 2.0 rows."""
    rows = cursor.execute(
        'SELECT "SUBSCRIPTION_ID", any_value(reservation_reservation_a_r_n), '
        'any_value("LINKED_ACCOUNT"), any_value("LINKED_ACCOUNT_NAME"), any_value("REGION"), '
        'any_value("INSTANCE_TYPE"), any_value("PLATFORM"), any_value("TENANCY"), '
        'any_value("AZ"), any_value(reservation_number_of_reservations), '
        "any_value(reservation_start_time), any_value(reservation_end_time), "
        'any_value("SERVICE") '
        f"FROM commitments WHERE kind IN ('RIFee', 'DiscountedUsage') AND {where} GROUP BY 1",
        args,
    ).fetchall()
    names = [
        "leaseId",
        "accountId",
        "accountName",
        "region",
        "instanceType",
        "platform",
        "tenancy",
        "availabilityZone",
        "numberOfInstances",
        "startDateTime",
        "endDateTime",
        "service",
    ]
    out = {}
    for sub, arn, *rest in rows:
        values = [str(arn or "").rsplit(":", 1)[-1], *(str(v or "") for v in rest)]
        attributes = dict(zip(names, values, strict=True))
        attributes |= {
            "subscriptionId": str(sub),
            "subscriptionStatus": "Active",
            "scope": "Region",
        }
        out[str(sub)] = attributes
    return out


def get_reservation_utilization(ctx: Context, **params: Any) -> Result:
    bill, span, granularity = shared.bill_of(ctx, params)
    expression = params.get("Filter")
    where = shared.where_of(expression, RI_UTILIZATION_FILTERS)
    if not shared.names_service(expression):
        where = f"({where}) AND \"SERVICE\" = '{EC2}'"
    grouped = bool(params.get("GroupBy"))
    if grouped and [g.get("Key") for g in params["GroupBy"]] != ["SUBSCRIPTION_ID"]:
        raise invalid("GetReservationUtilization groups only by SUBSCRIPTION_ID.")
    if not grouped and granularity is None:
        granularity = "DAILY"
    cursor = bill.cursor()
    sort = params.get("SortBy")
    by = sort["Key"] if sort else ""
    entries = []
    for bucket in shared.periods(span, granularity):
        time, args = shared.within(bucket)
        scope = f"({where}) AND {time}"
        total = figures.sums(cursor, "commitments", figures.RI_SUMS, scope, [], args)[0][1]
        entry: Result = {
            "TimePeriod": shared.label(bucket),
            "Total": figures.reservation_aggregates(total),
        }
        if grouped:
            attributes = _subscription_attributes(cursor, scope, args)
            groups = [
                {
                    "Key": "SUBSCRIPTION_ID",
                    "Value": str(key[0]),
                    "Attributes": attributes.get(str(key[0]), {}),
                    "Utilization": figures.reservation_aggregates(found),
                }
                for key, found in figures.sums(
                    cursor, "commitments", figures.RI_SUMS, scope, ['"SUBSCRIPTION_ID"'], args
                )
                if key[0]
            ]
            entry["Groups"] = shared.ordered(
                groups, sort, lambda g: float(g["Utilization"].get(by, 0))
            )
        else:
            entry["Groups"] = []
        entries.append(entry)
    whole_time, whole_args = shared.within(Bucket(span.start, span.end))
    scope = f"({where}) AND {whole_time}"
    whole = figures.sums(cursor, "commitments", figures.RI_SUMS, scope, [], whole_args)[0][1]
    page, token = shared.paged(ctx, "GetReservationUtilization", params, entries, "NextPageToken")
    out: Result = {"UtilizationsByTime": page, "Total": figures.reservation_aggregates(whole)}
    if token:
        out["NextPageToken"] = token
    return out


_RI_COVERAGE = {
    "reserved": "sum(CASE WHEN \"RECORD_TYPE\" = 'DiscountedUsage' THEN UsageQuantity ELSE 0 END)",
    "on_demand": "sum(CASE WHEN \"RECORD_TYPE\" = 'Usage' THEN UsageQuantity ELSE 0 END)",
    "reserved_units": "sum(CASE WHEN \"RECORD_TYPE\" = 'DiscountedUsage' "
    "THEN NormalizedUsageAmount ELSE 0 END)",
    "on_demand_units": "sum(CASE WHEN \"RECORD_TYPE\" = 'Usage' "
    "THEN NormalizedUsageAmount ELSE 0 END)",
    "cost": "sum(CASE WHEN \"RECORD_TYPE\" = 'Usage' THEN UnblendedCost ELSE 0 END)",
}


def _coverage(found: dict[str, float]) -> Result:
    hours = found["reserved"] + found["on_demand"]
    units = found["reserved_units"] + found["on_demand_units"]
    return {
        "CoverageHours": {
            "OnDemandHours": figures.money(found["on_demand"]),
            "ReservedHours": figures.money(found["reserved"]),
            "TotalRunningHours": figures.money(hours),
            "CoverageHoursPercentage": figures.percent(found["reserved"], hours),
        },
        "CoverageNormalizedUnits": {
            "OnDemandNormalizedUnits": figures.money(found["on_demand_units"]),
            "ReservedNormalizedUnits": figures.money(found["reserved_units"]),
            "TotalRunningNormalizedUnits": figures.money(units),
            "CoverageNormalizedUnitsPercentage": figures.percent(found["reserved_units"], units),
        },
        "CoverageCost": {"OnDemandCost": figures.money(found["cost"])},
    }


def get_reservation_coverage(ctx: Context, **params: Any) -> Result:
    bill, span, granularity = shared.bill_of(ctx, params)
    where = shared.where_of(params.get("Filter"), RI_COVERAGE_FILTERS)
    services = ", ".join(filters.literal(s) for s in figures.RESERVED_SERVICES)
    where = (
        f'({where}) AND "SERVICE" IN ({services}) AND "RECORD_TYPE" IN (\'Usage\', '
        f"'DiscountedUsage') AND regexp_matches(\"USAGE_TYPE\", '{figures.RESERVABLE}')"
    )
    keys = [g.get("Key", "") for g in params.get("GroupBy") or []]
    for key in keys:
        if key not in RI_COVERAGE_GROUPS:
            raise invalid(f"GetReservationCoverage cannot group by {key}.")
    entries = []
    for bucket in shared.periods(span, granularity):
        time, args = shared.within(bucket)
        scope = f"({where}) AND {time}"
        total = figures.sums(bill.cursor(), "facts", _RI_COVERAGE, scope, [], args)[0][1]
        groups = (
            [
                {
                    "Attributes": {
                        shared.attribute(k): str(v) for k, v in zip(keys, key, strict=True)
                    },
                    "Coverage": _coverage(found),
                }
                for key, found in figures.sums(
                    bill.cursor(), "facts", _RI_COVERAGE, scope, [column(k) for k in keys], args
                )
            ]
            if keys
            else []
        )
        entries.append(
            {"TimePeriod": shared.label(bucket), "Groups": groups, "Total": _coverage(total)}
        )
    whole_time, whole_args = shared.within(Bucket(span.start, span.end))
    whole = figures.sums(
        bill.cursor(), "facts", _RI_COVERAGE, f"({where}) AND {whole_time}", [], whole_args
    )[0][1]
    page, token = shared.paged(ctx, "GetReservationCoverage", params, entries, "NextPageToken")
    out: Result = {"CoveragesByTime": page, "Total": _coverage(whole)}
    if token:
        out["NextPageToken"] = token
    return out


OPERATIONS: dict[str, Handler] = {
    "GetReservationUtilization": get_reservation_utilization,
    "GetReservationCoverage": get_reservation_coverage,
}
