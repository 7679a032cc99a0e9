"""Commitments as the synthetic enumerator bills them: usage a Savings Plan covers becomes
SavingsPlanCoveredUsage with its SavingsPlanNegation twin and one SavingsPlanRecurringFee
line per plan; usage a reservation covers becomes DiscountedUsage, with an RIFee line each
month and the upfront Fee in the month it was bought; a capacity reservation's idle
instances become `UnusedBox` lines. The discounts are the public ones for each term and
payment option."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from bcm_local.billing import catalog
from bcm_local.billing.scenario import ids
from bcm_local.billing.scenario.definition import ReservedInstance, Resource
from bcm_local.billing.scenario.periods import add_months, month_start
from bcm_local.billing.usage.lines import UsageContext, UsageLine

SP_DISCOUNT = {"1yr": 0.28, "3yr": 0.50}
LAMBDA_SP_DISCOUNT = {"1yr": 0.12, "3yr": 0.17}
RI_DISCOUNT = {
    ("1yr", "No Upfront"): 0.30,
    ("1yr", "Partial Upfront"): 0.36,
    ("1yr", "All Upfront"): 0.38,
    ("3yr", "No Upfront"): 0.50,
    ("3yr", "Partial Upfront"): 0.56,
    ("3yr", "All Upfront"): 0.60,
}
UPFRONT_SHARE = {"No Upfront": 0.0, "Partial Upfront": 0.5, "All Upfront": 1.0}
TERM_HOURS = {"1yr": 8760.0, "3yr": 26280.0}


def in_reservation(
    ctx: UsageContext,
    accounts: dict[str, tuple[str, str]],
    res: Resource,
    line: UsageLine,
) -> UsageLine:
    if not line.usage_type.endswith(f"BoxUsage:{res.type}"):
        return line
    return replace(
        line,
        capacity_reservation_arn=cr_arn(ctx, accounts, res.capacity_reservation),
        capacity_reservation_status="Used",
        capacity_reservation_type="Targeted",
    )


def commitment_lines(
    ctx: UsageContext,
    accounts: dict[str, tuple[str, str]],
    current: datetime,
    cr_used: dict[str, int],
    hours: float,
) -> Iterator[UsageLine]:
    sc = ctx.scenario
    payer_id, payer_name = accounts["payer"]
    for sp in sc.savings_plans:
        arn = sp_arn(ctx, sp.key)
        usage = f"ComputeSP:{sp.term}{sp.payment.replace(' ', '')}"
        yield UsageLine(
            payer_id,
            payer_name,
            "ComputeSavingsPlans",
            "ComputeSavingsPlans",
            catalog.SERVICES["ComputeSavingsPlans"][0],
            usage,
            "",
            "Hrs",
            1.0,
            sp.commitment,
            sp.commitment,
            f"{sp.term} {sp.payment} Compute Savings Plan hourly commitment",
            "Savings Plan",
            resource_id=arn,
            resource_type="SavingsPlan",
            pattern=f"sp:{sp.key}",
            line_item_type="SavingsPlanRecurringFee",
            sku=ids.sku("sp", sp.term, sp.payment),
            pricing_term="",
            purchase_option=sp.payment,
            commitment={
                "kind": "sp_fee",
                "key": sp.key,
                "arn": arn,
                "term": sp.term,
                "payment": sp.payment,
            },
        )
    for ri in sc.reserved_instances:
        if not ri_active(ri, ctx, current):
            continue
        yield from reservation_fees(ctx, accounts, ri, current, hours)
    for cr in sc.capacity_reservations:
        idle = cr.count - cr_used.get(cr.key, 0)
        if idle <= 0:
            continue
        arn = cr_arn(ctx, accounts, cr.key)
        yield unused_box(accounts[cr.account], cr.region, cr.type, float(idle), cr.az, arn)


def unused_box(
    account: tuple[str, str], region_code: str, instance_type: str, idle: float, az: str, arn: str
) -> UsageLine:
    """The idle instances of a capacity reservation (`UnusedBox`), at the on-demand Linux
    rate of its instance type."""
    region = catalog.region(region_code)
    price = catalog.EC2_TYPES[instance_type][0] * region.multiplier
    return UsageLine(
        account[0],
        account[1],
        "AmazonEC2",
        "AmazonEC2",
        catalog.SERVICES["AmazonEC2"][0],
        f"{region.prefix}UnusedBox:{instance_type}",
        "RunInstances",
        "Hrs",
        idle,
        price,
        price,
        f"${price:g} per Unused Reservation Linux {instance_type} Instance Hour",
        "Compute Instance",
        region=region_code,
        az=az,
        resource_id=arn,
        resource_type="CapacityReservation",
        instance_type=instance_type,
        product={
            "current_generation": catalog.current_generation(instance_type),
            "operating_system": "Linux",
            "tenancy": "Shared",
        },
        sku=ids.sku(region_code, "UnusedBox", instance_type),
        capacity_reservation_arn=arn,
        capacity_reservation_status="Unused",
        capacity_reservation_type="Targeted",
    )


def sp_covers(line: UsageLine) -> bool:
    return "BoxUsage" in line.usage_type or line.usage_type.endswith("Lambda-GB-Second")


def sp_arn(ctx: UsageContext, key: str) -> str:
    return f"arn:aws:savingsplans::{ctx.account_id}:savingsplan/{ids.uuid_of(ctx.seed, 'sp', key)}"


def cr_arn(ctx: UsageContext, accounts: dict[str, tuple[str, str]], key: str) -> str:
    cr = next(c for c in ctx.scenario.capacity_reservations if c.key == key)
    acct = accounts[cr.account][0]
    return (
        f"arn:aws:ec2:{cr.region}:{acct}:capacity-reservation/cr-0{ids.hex_id(16, ctx.seed, key)}"
    )


def savings_plan_covered(ctx: UsageContext, res: Resource, line: UsageLine) -> Iterator[UsageLine]:
    sp = next(p for p in ctx.scenario.savings_plans if p.key == res.savings_plan)
    off = (LAMBDA_SP_DISCOUNT if res.kind == "lambda" else SP_DISCOUNT)[sp.term]
    info = {
        "kind": "sp",
        "key": sp.key,
        "arn": sp_arn(ctx, sp.key),
        "rate": line.price * (1 - off),
        "term": sp.term,
        "payment": sp.payment,
        "family": (line.instance_type or "").split(".")[0],
    }
    yield replace(line, line_item_type="SavingsPlanCoveredUsage", commitment=info)
    yield replace(
        line,
        line_item_type="SavingsPlanNegation",
        price=-line.price,
        list_price=0.0,
        description=(
            f"SavingsPlanNegation used by AccountId : {line.account_id} and UsageSku : {line.sku}"
        ),
        commitment={**info, "kind": "sp_negation"},
    )


def ri_active(ri: ReservedInstance, ctx: UsageContext, current: datetime) -> bool:
    bought = add_months(current, -ri.months_active)
    months = 12 if ri.term == "1yr" else 36
    return bought <= ctx.period_start < add_months(bought, months)


def ri_info(
    ctx: UsageContext, accounts: dict[str, tuple[str, str]], ri: ReservedInstance, current: datetime
) -> dict[str, object]:
    od = (catalog.RDS_TYPES if ri.service == "rds" else catalog.EC2_TYPES)[ri.type]
    od_price = (od if isinstance(od, float) else od[0]) * catalog.region(ri.region).multiplier
    effective = od_price * (1 - RI_DISCOUNT[(ri.term, ri.payment)])
    share = UPFRONT_SHARE[ri.payment]
    acct = accounts[ri.account][0]
    rid = ids.uuid_of(ctx.seed, "ri", ri.key)
    arn = (
        f"arn:aws:rds:{ri.region}:{acct}:ri:{ri.key}-{rid[:8]}"
        if ri.service == "rds"
        else f"arn:aws:ec2:{ri.region}:{acct}:reserved-instances/{rid}"
    )
    bought = add_months(current, -ri.months_active)
    months = 12 if ri.term == "1yr" else 36
    return {
        "kind": "ri",
        "key": ri.key,
        "arn": arn,
        "effective": effective,
        "amortized": effective * share,
        "recurring": effective * (1 - share),
        "upfront": effective * share * TERM_HOURS[ri.term],
        "count": ri.count,
        "start": bought.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": add_months(bought, months).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "term": ri.term,
        "payment": ri.payment,
        "od_price": od_price,
        "subscription": ids.number(10, ctx.seed, "ri-sub", ri.key),
    }


def reservation_covered(
    ctx: UsageContext, accounts: dict[str, tuple[str, str]], ri: ReservedInstance, line: UsageLine
) -> UsageLine:
    if "Usage:" not in line.usage_type:  # storage of a reserved database is on demand
        return line
    current = month_start(ctx.now)
    info = ri_info(ctx, accounts, ri, current)
    return replace(
        line,
        line_item_type="DiscountedUsage",
        price=0.0,
        pricing_term="Reserved",
        purchase_option=ri.payment,
        lease_contract_length=ri.term,
        offering_class="standard",
        description=f"USD 0.0 hourly fee per {line.usage_type.split(':')[-1]} (reserved instance)",
        commitment=info,
    )


def reservation_fees(
    ctx: UsageContext,
    accounts: dict[str, tuple[str, str]],
    ri: ReservedInstance,
    current: datetime,
    hours: float,
) -> Iterator[UsageLine]:
    info = ri_info(ctx, accounts, ri, current)
    acct_id, acct_name = accounts[ri.account]
    product = "AmazonRDS" if ri.service == "rds" else "AmazonEC2"
    region = catalog.region(ri.region)
    usage = f"{region.prefix}{'HeavyUsage' if ri.service == 'ec2' else 'InstanceUsage'}:{ri.type}"
    common = dict(
        account_id=acct_id,
        account_name=acct_name,
        product_code=product,
        service_code=product,
        service_name=catalog.SERVICES[product][0],
        usage_type=usage,
        operation="",
        product_family="Compute Instance" if ri.service == "ec2" else "Database Instance",
        pattern="once",
        region=ri.region,
        resource_id=str(info["arn"]),
        resource_type="ReservedDBInstance" if ri.service == "rds" else "ReservedInstances",
        instance_type=ri.type,
        sku=ids.sku(ri.region, "ri", ri.type),
        pricing_term="Reserved",
        purchase_option=ri.payment,
        lease_contract_length=ri.term,
        offering_class="standard",
        replicable=False,
    )
    recurring = float(info["recurring"])  # type: ignore[arg-type]
    yield UsageLine(
        unit="Hrs",
        rate=ri.count * hours,
        price=recurring,
        list_price=recurring,
        description=f"USD {recurring:.4f} hourly fee per {ri.type} ({ri.count} reserved instances)",
        line_item_type="RIFee",
        amount=recurring * ri.count * hours,
        commitment={**info, "kind": "ri_fee"},
        **common,  # type: ignore[arg-type]
    )
    if info["start"] == ctx.period_start.strftime("%Y-%m-%dT%H:%M:%SZ"):
        upfront = float(info["upfront"]) * ri.count  # type: ignore[arg-type]
        sign_up = f"Sign up charge for subscription: {info['subscription']}, planId: {ri.type}"
        yield UsageLine(
            unit="Quantity",
            rate=float(ri.count),
            price=upfront / ri.count,
            list_price=upfront / ri.count,
            description=sign_up,
            line_item_type="Fee",
            amount=upfront,
            bill_type="Purchase",
            commitment={**info, "kind": "ri_upfront"},
            **common,  # type: ignore[arg-type]
        )
