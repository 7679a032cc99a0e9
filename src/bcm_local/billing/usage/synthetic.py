"""The synthetic enumerator: the scenario's organisation as usage lines for one period.

Each resource kind has its meter (usage/compute.py, storage.py, database.py, network.py,
monitoring.py, ai.py); usage covered by a commitment is billed as usage/commitments.py
says; instances hosting containers add their tasks' split cost allocation records
(usage/containers.py); resources naming an IAM principal carry its ARN and tags. Amounts
that depend on the whole period's usage (used commitment, unused reservation hours, tax,
support) are filled in later by bcm_local.billing.charges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta

from bcm_local.billing import catalog
from bcm_local.billing.scenario import ids
from bcm_local.billing.scenario.definition import Resource, Scenario
from bcm_local.billing.scenario.periods import month_start
from bcm_local.billing.scenario.shapes import VARIANTS
from bcm_local.billing.usage import commitments, containers
from bcm_local.billing.usage.ai import bedrock
from bcm_local.billing.usage.compute import ec2, lambda_
from bcm_local.billing.usage.database import dynamodb, rds
from bcm_local.billing.usage.lines import UsageContext, UsageLine, account_directory
from bcm_local.billing.usage.meter import Owner
from bcm_local.billing.usage.monitoring import cloudwatch, kms
from bcm_local.billing.usage.network import alb, data_transfer, nat
from bcm_local.billing.usage.storage import ebs, s3

BUILDERS: dict[str, Callable[[Owner, Resource, int], Iterator[UsageLine]]] = {
    "ec2": ec2,
    "ebs": ebs,
    "s3": s3,
    "rds": rds,
    "lambda": lambda_,
    "dynamodb": dynamodb,
    "nat": nat,
    "alb": alb,
    "data_transfer": data_transfer,
    "cloudwatch": cloudwatch,
    "kms": kms,
    "bedrock": bedrock,
}


class SyntheticEnumerator:
    name = "synthetic"

    def enumerate(self, ctx: UsageContext) -> Iterator[UsageLine]:
        sc = ctx.scenario
        accounts = account_directory(ctx)
        hours = (ctx.period_end - ctx.period_start).total_seconds() / 3600
        current = month_start(ctx.now)
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
                        line = commitments.in_reservation(ctx, accounts, res, line)
                        cr_used[res.capacity_reservation] = (
                            cr_used.get(res.capacity_reservation, 0) + 1
                        )
                    if res.savings_plan and commitments.sp_covers(line):
                        billed = list(commitments.savings_plan_covered(ctx, res, line))
                    elif res.reservation and commitments.ri_active(
                        ris[res.reservation], ctx, current
                    ):
                        billed = [
                            commitments.reservation_covered(
                                ctx, accounts, ris[res.reservation], line
                            )
                        ]
                    else:
                        billed = [line]
                    yield from billed
                    if res.containers and "BoxUsage" in line.usage_type:
                        yield from containers.workload_lines(
                            ctx.seed, res, billed[0], sc.edp_percent
                        )
        yield from commitments.commitment_lines(ctx, accounts, current, cr_used, hours)
        yield from _adjustments(ctx, accounts)


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
