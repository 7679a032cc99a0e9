"""The synthetic enumerator: the scenario's organisation as usage lines for one period.

Commitments: resources naming a Savings Plan become SavingsPlanCoveredUsage lines plus
their SavingsPlanNegation twins and one SavingsPlanRecurringFee line per plan; resources
naming a reservation become DiscountedUsage lines, with an RIFee line each month and the
upfront Fee in the month it was bought; a capacity reservation's idle instances become
`UnusedBox` lines. Instances hosting containers add their tasks' split cost allocation
records (`bcm_local.billing.containers`); resources naming an IAM principal carry its ARN
and tags. Amounts that depend on the usage (used commitment, unused reservation hours,
tax, support) are filled in by `bcm_local.billing.derived`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

from bcm_local.billing import catalog, containers, ids
from bcm_local.billing.meters import Owner
from bcm_local.billing.meters_more import BUILDERS
from bcm_local.billing.patterns import VARIANTS
from bcm_local.billing.scenario import ReservedInstance, Resource, Scenario
from bcm_local.billing.usage import UsageContext, UsageLine

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


def account_directory(ctx: UsageContext) -> dict[str, tuple[str, str]]:
    """Account key -> (account id, account name); the payer is the calling account."""
    sc = ctx.scenario
    found = {"payer": (ctx.account_id, sc.payer_name)}
    for acct in sc.accounts:
        found[acct.key] = (acct.id or ids.number(12, ctx.account_id, acct.key), acct.name)
    return found


def month_offset(start: datetime, months: int) -> datetime:
    index = start.year * 12 + start.month - 1 + months
    return start.replace(year=index // 12, month=index % 12 + 1, day=1)


class SyntheticEnumerator:
    name = "synthetic"

    def enumerate(self, ctx: UsageContext) -> Iterator[UsageLine]:
        sc = ctx.scenario
        accounts = account_directory(ctx)
        hours = (ctx.period_end - ctx.period_start).total_seconds() / 3600
        current = month_offset(ctx.now.replace(day=1, hour=0, minute=0, second=0, microsecond=0), 0)
        ris = {ri.key: ri for ri in sc.reserved_instances}
        cr_used: dict[str, int] = {}
        for res in sc.resources:
            acct_id, acct_name = accounts[res.account]
            start = ctx.period_start + timedelta(days=res.start_day - 1)
            owner = Owner(acct_id, acct_name, catalog.region(res.region), start, hours, ctx.seed)
            for i in range(res.count):
                for line in BUILDERS[res.kind](owner, res, i):
                    line = _principal(ctx, accounts, res, _shape(line, res, i, ctx.seed))
                    if res.capacity_reservation and res.kind == "ec2":
                        line = self._in_reservation(ctx, accounts, res, line)
                        cr_used[res.capacity_reservation] = (
                            cr_used.get(res.capacity_reservation, 0) + 1
                        )
                    if res.savings_plan and _sp_covers(line):
                        billed = list(_savings_plan_covered(ctx, res, line))
                    elif res.reservation and _ri_active(ris[res.reservation], ctx, current):
                        billed = [_reservation_covered(ctx, accounts, ris[res.reservation], line)]
                    else:
                        billed = [line]
                    yield from billed
                    if res.containers and "BoxUsage" in line.usage_type:
                        yield from containers.workload_lines(
                            ctx.seed, res, billed[0], sc.edp_percent
                        )
        yield from self._commitment_lines(ctx, accounts, current, cr_used, hours)
        yield from _adjustments(ctx, accounts)

    def _in_reservation(
        self,
        ctx: UsageContext,
        accounts: dict[str, tuple[str, str]],
        res: Resource,
        line: UsageLine,
    ) -> UsageLine:
        if not line.usage_type.endswith(f"BoxUsage:{res.type}"):
            return line
        return replace(
            line,
            capacity_reservation_arn=_cr_arn(ctx, accounts, res.capacity_reservation),
            capacity_reservation_status="Used",
            capacity_reservation_type="Targeted",
        )

    def _commitment_lines(
        self,
        ctx: UsageContext,
        accounts: dict[str, tuple[str, str]],
        current: datetime,
        cr_used: dict[str, int],
        hours: float,
    ) -> Iterator[UsageLine]:
        sc = ctx.scenario
        payer_id, payer_name = accounts["payer"]
        for sp in sc.savings_plans:
            arn = _sp_arn(ctx, sp.key)
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
            if not _ri_active(ri, ctx, current):
                continue
            yield from _reservation_fees(ctx, accounts, ri, current, hours)
        for cr in sc.capacity_reservations:
            idle = cr.count - cr_used.get(cr.key, 0)
            if idle <= 0:
                continue
            acct_id, acct_name = accounts[cr.account]
            region = catalog.region(cr.region)
            price = catalog.EC2_TYPES[cr.type][0] * region.multiplier
            yield UsageLine(
                acct_id,
                acct_name,
                "AmazonEC2",
                "AmazonEC2",
                catalog.SERVICES["AmazonEC2"][0],
                f"{region.prefix}UnusedBox:{cr.type}",
                "RunInstances",
                "Hrs",
                float(idle),
                price,
                price,
                f"${price:g} per Unused Reservation Linux {cr.type} Instance Hour",
                "Compute Instance",
                region=cr.region,
                az=cr.az,
                resource_id=_cr_arn(ctx, accounts, cr.key),
                resource_type="CapacityReservation",
                instance_type=cr.type,
                product={
                    "current_generation": catalog.current_generation(cr.type),
                    "operating_system": "Linux",
                    "tenancy": "Shared",
                },
                sku=ids.sku(cr.region, "UnusedBox", cr.type),
                capacity_reservation_arn=_cr_arn(ctx, accounts, cr.key),
                capacity_reservation_status="Unused",
                capacity_reservation_type="Targeted",
            )


def _shape(line: UsageLine, res: Resource, i: int, seed: int) -> UsageLine:
    pattern = line.pattern if line.pattern != "flat" else res.pattern
    if pattern == "autoscale" and line.unit != "Hrs":
        pattern = "web"
    variant = i % VARIANTS if pattern == "autoscale" else ids.variant(VARIANTS, seed, res.name, i)
    tags = (
        {"Name": line.resource_name or res.name, **res.tags} if line.resource_id else dict(res.tags)
    )
    return replace(line, pattern=pattern, variant=variant, tags=tags)


def _principal(
    ctx: UsageContext, accounts: dict[str, tuple[str, str]], res: Resource, line: UsageLine
) -> UsageLine:
    """The resource's usage billed to its IAM principal (ARN and principal tags)."""
    if not res.principal:
        return line
    found = next(p for p in ctx.scenario.iam_principals if p.key == res.principal)
    arn = f"arn:aws:iam::{accounts[found.account][0]}:{found.kind}/{found.name}"
    return replace(line, iam_principal=arn, principal_tags=dict(found.tags))


def _sp_covers(line: UsageLine) -> bool:
    return "BoxUsage" in line.usage_type or line.usage_type.endswith("Lambda-GB-Second")


def _sp_arn(ctx: UsageContext, key: str) -> str:
    return f"arn:aws:savingsplans::{ctx.account_id}:savingsplan/{ids.uuid_of(ctx.seed, 'sp', key)}"


def _cr_arn(ctx: UsageContext, accounts: dict[str, tuple[str, str]], key: str) -> str:
    cr = next(c for c in ctx.scenario.capacity_reservations if c.key == key)
    acct = accounts[cr.account][0]
    return (
        f"arn:aws:ec2:{cr.region}:{acct}:capacity-reservation/cr-0{ids.hex_id(16, ctx.seed, key)}"
    )


def _savings_plan_covered(ctx: UsageContext, res: Resource, line: UsageLine) -> Iterator[UsageLine]:
    sp = next(p for p in ctx.scenario.savings_plans if p.key == res.savings_plan)
    off = (LAMBDA_SP_DISCOUNT if res.kind == "lambda" else SP_DISCOUNT)[sp.term]
    info = {
        "kind": "sp",
        "key": sp.key,
        "arn": _sp_arn(ctx, sp.key),
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


def _ri_active(ri: ReservedInstance, ctx: UsageContext, current: datetime) -> bool:
    bought = month_offset(current, -ri.months_active)
    months = 12 if ri.term == "1yr" else 36
    return bought <= ctx.period_start < month_offset(bought, months)


def _ri_info(
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
    bought = month_offset(current, -ri.months_active)
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
        "end": month_offset(bought, months).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "term": ri.term,
        "payment": ri.payment,
        "od_price": od_price,
        "subscription": ids.number(10, ctx.seed, "ri-sub", ri.key),
    }


def _reservation_covered(
    ctx: UsageContext, accounts: dict[str, tuple[str, str]], ri: ReservedInstance, line: UsageLine
) -> UsageLine:
    if "Usage:" not in line.usage_type:  # storage of a reserved database is on demand
        return line
    current = month_offset(ctx.now.replace(day=1, hour=0, minute=0, second=0, microsecond=0), 0)
    info = _ri_info(ctx, accounts, ri, current)
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


def _reservation_fees(
    ctx: UsageContext,
    accounts: dict[str, tuple[str, str]],
    ri: ReservedInstance,
    current: datetime,
    hours: float,
) -> Iterator[UsageLine]:
    info = _ri_info(ctx, accounts, ri, current)
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


def _adjustments(ctx: UsageContext, accounts: dict[str, tuple[str, str]]) -> Iterator[UsageLine]:
    sc: Scenario = ctx.scenario
    for kind, items, sign in (("Credit", sc.credits, -1.0), ("Refund", sc.refunds, -1.0)):
        for n, adj in enumerate(items):
            acct_id, acct_name = accounts[adj.account]
            service = catalog.SERVICES.get(adj.product_code, (adj.product_code, "", ""))[0]
            yield UsageLine(
                acct_id,
                acct_name,
                adj.product_code,
                adj.product_code,
                service,
                f"{kind}-{n + 1}",
                "",
                "",
                0.0,
                0.0,
                0.0,
                adj.description or f"AWS {kind}",
                kind,
                pattern="once",
                line_item_type=kind,
                amount=sign * adj.amount,
                bill_type="Refund" if kind == "Refund" else "Anniversary",
                sku="",
                pricing_term="",
                replicable=False,
            )
