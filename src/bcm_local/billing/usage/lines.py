"""The ResourceUsageEnumerator interface and the usage lines it yields.

A `UsageLine` is not one output row: it is a metered series (a resource and a usage type)
whose hourly usage is `rate * pattern(hour)` while the line is active. The model expands
lines into rows in DuckDB, vectorised, at the export's time granularity. Lines with pattern
`once` are monthly charges (tax, credits, fees) carrying a fixed `amount`.

Third-party enumerators register under the entry-point group `bcm_local.enumerators`; the
entry point is a class (or factory) called with no arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bcm_local.billing.scenario import ids

if TYPE_CHECKING:
    from bcm_local.billing.scenario.definition import Scenario
    from bcm_local.runtime import Runtime

PATTERNS = ("flat", "web", "batch", "business", "growth", "serverless", "once")


@dataclass(frozen=True)
class UsageContext:
    """What an enumerator knows: whose bill, which billing period, and until when."""

    account_id: str  # the payer: the account that calls the API
    period_start: datetime  # UTC, first instant of the month
    period_end: datetime  # UTC, first instant of the next month
    now: datetime  # usage after this instant does not exist yet
    scenario: Scenario
    seed: int
    runtime: Runtime | None = None
    # the account's buckets as a server saw them (bill.BillInputs), where no runtime is
    buckets: tuple[Any, ...] | None = None


@dataclass
class UsageLine:
    account_id: str
    account_name: str
    product_code: str  # line_item_product_code, e.g. AmazonEC2
    service_code: str  # product servicecode, e.g. AWSDataTransfer
    service_name: str  # e.g. Amazon Elastic Compute Cloud
    usage_type: str
    operation: str
    unit: str  # pricing unit: Hrs, GB-Mo, GB, Requests, ...
    rate: float  # usage units per hour at pattern factor 1 (for `once`: the usage amount)
    price: float  # unblended rate per unit
    list_price: float  # public on-demand rate per unit
    description: str
    product_family: str
    region: str | None = None
    az: str | None = None
    resource_id: str | None = None
    resource_name: str | None = None
    resource_type: str | None = None
    pattern: str = "flat"
    variant: int = 0
    start: datetime | None = None  # active from (default: period start)
    end: datetime | None = None  # active until (default: period end)
    line_item_type: str = "Usage"
    amount: float | None = None  # `once` lines: the cost
    tags: dict[str, str] = field(default_factory=dict)
    product: dict[str, str] = field(default_factory=dict)  # extra product attributes
    sku: str = ""
    instance_type: str | None = None
    instance_family: str | None = None
    normalization_factor: float | None = None
    pricing_term: str = "OnDemand"
    purchase_option: str | None = None
    lease_contract_length: str | None = None
    offering_class: str | None = None
    tax_type: str | None = None
    bill_type: str = "Anniversary"
    legal_entity: str = "Amazon Web Services, Inc."
    iam_principal: str | None = None
    principal_tags: dict[str, str] = field(default_factory=dict)  # tags of the IAM principal
    capacity_reservation_arn: str | None = None
    capacity_reservation_status: str | None = None
    capacity_reservation_type: str | None = None
    commitment: dict[str, Any] = field(default_factory=dict)  # SP / RI attributes
    replicable: bool = True  # may be cloned by the scale knob (synthetic lines)
    split_parent: str | None = None  # split cost allocation: the task's EC2 instance
    split: dict[str, float] = field(default_factory=dict)  # its figures (billing.containers)


@runtime_checkable
class ResourceUsageEnumerator(Protocol):
    """Adds usage lines for one billing period of one payer account."""

    name: str

    def enumerate(self, ctx: UsageContext) -> Iterable[UsageLine]: ...


def entry_point_enumerators() -> list[ResourceUsageEnumerator]:
    """Enumerators installed by other packages (entry-point group `bcm_local.enumerators`)."""
    from importlib.metadata import entry_points

    found: list[ResourceUsageEnumerator] = []
    for ep in sorted(entry_points(group="bcm_local.enumerators"), key=lambda e: e.name):
        factory = ep.load()
        instance = factory()
        if not isinstance(instance, ResourceUsageEnumerator):
            raise TypeError(f"entry point {ep.name!r} is not a ResourceUsageEnumerator")
        found.append(instance)
    return found


def account_directory(ctx: UsageContext) -> dict[str, tuple[str, str]]:
    """Account key -> (account id, account name); the payer is the calling account."""
    sc = ctx.scenario
    found = {"payer": (ctx.account_id, sc.payer_name)}
    for acct in sc.accounts:
        found[acct.key] = (acct.id or ids.number(12, ctx.account_id, acct.key), acct.name)
    return found
