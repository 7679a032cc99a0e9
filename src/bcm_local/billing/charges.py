"""Charges computed from the period's usage: used Savings Plan commitment per hour,
reservation fees and unused hours, tax per account and product, the support fee."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from bcm_local.billing import catalog
from bcm_local.billing.scenario.definition import Scenario
from bcm_local.billing.scenario.periods import Period
from bcm_local.billing.usage.lines import UsageLine


@dataclass
class Placed:
    """A line with its hourly factors over the period (zero outside its active window)."""

    line: UsageLine
    hourly: Any  # numpy array, length = period.active_hours
    aux: Any = None  # numpy array for Savings Plan fee lines: used commitment per hour
    weight: float = 1.0  # copies of the line after scaling (replicas)
    h0: int = 0  # active window, hours from the period start
    h1: int = 0

    @property
    def units(self) -> float:
        """Usage units over the period."""
        return float(self.line.rate * self.hourly.sum())

    @property
    def cost(self) -> float:
        if self.line.pattern == "once":
            return float(self.line.amount or 0.0)
        return float(self.units * self.line.price)


def finalize(
    placed: list[Placed], period: Period, scenario: Scenario, zeros: Any, payer: str
) -> list[Placed]:
    """Fill usage-dependent amounts in and add tax and support lines."""
    out = [_savings_plan_fee(p, placed, zeros) if _kind(p) == "sp_fee" else p for p in placed]
    out = [_reservation_fee(p, out, period) if _kind(p) == "ri_fee" else p for p in out]
    out += _tax(out, period, scenario, zeros)
    out += _support(out, period, scenario, zeros, payer)
    return out


def _kind(p: Placed) -> str:
    return str(p.line.commitment.get("kind", ""))


def _savings_plan_fee(fee: Placed, placed: list[Placed], zeros: Any) -> Placed:
    import numpy as np

    key = fee.line.commitment["key"]
    used = zeros.copy()
    for p in placed:
        c = p.line.commitment
        if c.get("kind") == "sp" and c.get("key") == key:
            used += p.hourly * (p.line.rate * float(c["rate"]) * p.weight)
    commitment = fee.line.price * fee.weight
    if commitment <= 0:
        commitment = math.ceil(float(used.max(initial=0.0)) * 1.05 * 1000) / 1000 or 0.001
    aux = np.minimum(used, commitment)
    line = replace(
        fee.line,
        price=commitment,
        list_price=commitment,
        commitment={**fee.line.commitment, "commitment": commitment},
        replicable=False,
    )
    return Placed(line, fee.hourly, aux=aux, weight=1.0, h0=fee.h0, h1=fee.h1)


def _reservation_fee(fee: Placed, placed: list[Placed], period: Period) -> Placed:
    info = fee.line.commitment
    used = sum(
        p.units * p.weight
        for p in placed
        if p.line.commitment.get("kind") == "ri" and p.line.commitment.get("key") == info["key"]
    )
    reserved = float(info["count"]) * period.active_hours
    unused = max(reserved - used, 0.0)
    recurring, amortized = float(info["recurring"]), float(info["amortized"])
    details = {
        **info,
        "reserved": reserved,
        "unused": unused,
        "unused_recurring": unused * recurring,
        "unused_amortized": unused * amortized,
        "amortized_period": reserved * amortized,
        "recurring_period": reserved * recurring,
    }
    line = replace(fee.line, rate=reserved, amount=reserved * recurring, commitment=details)
    return Placed(line, fee.hourly, weight=1.0, h0=fee.h0, h1=fee.h1)


def _once(template: UsageLine, **changes: Any) -> UsageLine:
    return replace(
        template,
        pattern="once",
        variant=0,
        start=None,
        end=None,
        replicable=False,
        tags={},
        product={},
        commitment={},
        resource_id=None,
        resource_name=None,
        resource_type=None,
        az=None,
        sku="",
        pricing_term="",
        rate=0.0,
        price=0.0,
        list_price=0.0,
        instance_type=None,
        normalization_factor=None,
        iam_principal=None,
        principal_tags={},
        split_parent=None,
        split={},
        capacity_reservation_arn=None,
        capacity_reservation_status=None,
        capacity_reservation_type=None,
        purchase_option=None,
        **changes,
    )


_NOT_TAXED = ("Tax", "Credit", "Refund", "SavingsPlanNegation")


def _tax(placed: list[Placed], period: Period, scenario: Scenario, zeros: Any) -> list[Placed]:
    if scenario.tax_rate <= 0:
        return []
    totals: dict[tuple[str, str], float] = defaultdict(float)
    first: dict[tuple[str, str], UsageLine] = {}
    for p in placed:
        if p.line.line_item_type in _NOT_TAXED:
            continue
        key = (p.line.account_id, p.line.product_code)
        totals[key] += p.cost * p.weight
        first.setdefault(key, p.line)
    lines = []
    for key in sorted(totals):
        amount = round(totals[key] * scenario.tax_rate, 10)
        if amount == 0:
            continue
        line = _once(
            first[key],
            line_item_type="Tax",
            amount=amount,
            usage_type="",
            operation="",
            unit="",
            description=f"Tax for product code {key[1]}",
            product_family="",
            tax_type=scenario.tax_type,
            region=None,
        )
        lines.append(Placed(line, _first_hour(zeros), h1=period.active_hours))
    return lines


def _support(
    placed: list[Placed], period: Period, scenario: Scenario, zeros: Any, payer: str
) -> list[Placed]:
    if scenario.support != "business" or not placed:
        return []
    usage = sum(p.cost * p.weight for p in placed if p.line.line_item_type not in _NOT_TAXED)
    minimum = 100.0 * period.active_hours / period.total_hours
    amount = round(max(usage * 0.10, minimum), 10)
    template = next((p.line for p in placed if p.line.account_id == payer), placed[0].line)
    name = catalog.SERVICES["AWSSupportBusiness"][0]
    line = _once(
        template,
        line_item_type="Fee",
        amount=amount,
        product_code="AWSSupportBusiness",
        service_code="AWSSupportBusiness",
        service_name=name,
        usage_type="Dollar",
        operation="",
        unit="Dollar",
        description="AWS Support (Business) fee: greater of $100 or 10% of monthly usage",
        product_family="",
        region=None,
    )
    return [Placed(line, _first_hour(zeros), h1=period.active_hours)]


def _first_hour(zeros: Any) -> Any:
    hourly = zeros.copy()
    hourly[0] = 1.0
    return hourly
