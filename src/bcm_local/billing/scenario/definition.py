"""The organisation a synthetic bill describes: accounts, resources, commitments,
adjustments. Loaded from YAML or JSON (setting BCM_LOCAL_BILLING_SCENARIO) and validated
with errors that name the offending field; the built-in default is `DEFAULT`.

Format (every key optional except where noted)::

    organization:
      payer_name: Example Corp            # the payer's account id is the calling account
      accounts: [{key: prod, name: example-prod, id: "123456789012"}]  # id optional
      cost_categories: {prod: {BusinessUnit: Retail}}   # account key -> category -> value
    resources:                            # required
      - kind: ec2                         # see KINDS
        account: prod                     # "payer" or a key of organization.accounts
        region: us-east-1
        count: 4
        type: m5.large                    # instance/volume/db type or storage class
        size_gb: 0                        # storage kinds
        per_hour: 0                       # volume kinds: requests, GB, tokens (thousands)...
        pattern: autoscale                # see scenario/shapes.py PATTERN_IDS
        name: web                         # Name tag / resource name prefix
        os: Linux                         # ec2: Linux | Windows
        tags: {team: storefront}
        savings_plan: sp1                 # ec2/lambda covered by this Savings Plan
        reservation: ri1                  # ec2/rds covered by this reservation
        capacity_reservation: cr1         # ec2 running in this capacity reservation
        start_day: 1                      # first active day of each month
        containers: ecs                   # ec2 hosting ECS tasks / EKS pods (ecs | eks):
        tasks: 3                          #   per instance; split cost allocation data
        task_vcpu: 1                      #   reserved vCPUs of each task / pod
        task_memory_gb: 4                 #   reserved memory of each task / pod
        principal: assistant              # IAM principal calling it (line_item_iam_principal)
    iam_principals: [{key: assistant, name: assistant-service, kind: role|user,
                      account: data, tags: {team: data}}]   # tags: IAM principal tags
    savings_plans: [{key: sp1, commitment: 0 (auto), term: 1yr|3yr, payment: No Upfront}]
    reserved_instances: [{key: ri1, account: prod, service: rds|ec2, type: db.r6g.large,
                          region: us-east-1, count: 1, term: 1yr|3yr, payment: Partial Upfront,
                          months_active: 4}]
    capacity_reservations: [{key: cr1, account: prod, region: us-east-1, az: us-east-1a,
                             type: m5.xlarge, count: 4}]
    credits: [{amount: 75, description: ..., account: payer}]
    refunds: [{amount: 20, description: ..., account: prod, product_code: AmazonEC2}]
    tax: {rate: 0.0, type: Sales Tax}
    support: business | none
    discounts: {edp_percent: 0}
    shape: {growth_per_month: 0.06, noise: 0.05, spike_day: 12, spike_start_hour: 14,
            spike_hours: 5, spike_factor: 4}
    spikes:                               # bursts of one service's / account's usage
      - service: AmazonBedrock            # a line_item_product_code (catalog.SERVICES) and/or
        account: data                     #   an account key: at least one of the two
        months_back: 1                    # 0: the current month, 1: the previous (closed) one
        day: 14                           # day of that month (1-28)
        factor: 5                         # usage multiplied by this over the spike's hours
        start_hour: 0                     # 0-23, UTC
        hours: 24                         # 1-168 (a spike past the month's end stops there)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bcm_local.billing import catalog
from bcm_local.billing.scenario.shapes import PATTERN_IDS, Shape, Spike

KINDS = [
    "ec2",
    "ebs",
    "s3",
    "rds",
    "lambda",
    "dynamodb",
    "nat",
    "alb",
    "data_transfer",
    "cloudwatch",
    "kms",
    "bedrock",
]


class ScenarioError(ValueError):
    """A scenario file that does not validate; the message names the field."""


@dataclass(frozen=True)
class Account:
    key: str
    name: str
    id: str | None = None


@dataclass(frozen=True)
class Resource:
    kind: str
    account: str = "payer"
    region: str = "us-east-1"
    count: int = 1
    type: str = ""
    size_gb: float = 0.0
    per_hour: float = 0.0
    pattern: str = "flat"
    name: str = ""
    os: str = "Linux"
    tags: dict[str, str] = field(default_factory=dict)
    savings_plan: str = ""
    reservation: str = ""
    capacity_reservation: str = ""
    start_day: int = 1
    containers: str = ""
    tasks: int = 0
    task_vcpu: float = 0.0
    task_memory_gb: float = 0.0
    principal: str = ""


@dataclass(frozen=True)
class Principal:
    """An IAM user or role whose calls are billed to it, with its (cost allocation) tags."""

    key: str
    name: str
    kind: str = "role"
    account: str = "payer"
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SavingsPlan:
    key: str
    commitment: float = 0.0  # USD per hour; 0 = sized to the covered usage
    term: str = "1yr"
    payment: str = "No Upfront"


@dataclass(frozen=True)
class ReservedInstance:
    key: str
    type: str
    account: str = "payer"
    service: str = "rds"
    region: str = "us-east-1"
    count: int = 1
    term: str = "1yr"
    payment: str = "Partial Upfront"
    months_active: int = 3  # bought this many months before the current one


@dataclass(frozen=True)
class CapacityReservation:
    key: str
    type: str
    account: str = "payer"
    region: str = "us-east-1"
    az: str = "us-east-1a"
    count: int = 1


@dataclass(frozen=True)
class Adjustment:
    amount: float
    description: str = ""
    account: str = "payer"
    product_code: str = "AmazonEC2"


@dataclass(frozen=True)
class Scenario:
    resources: tuple[Resource, ...]
    payer_name: str = "Example Corp"
    accounts: tuple[Account, ...] = ()
    cost_categories: dict[str, dict[str, str]] = field(default_factory=dict)
    savings_plans: tuple[SavingsPlan, ...] = ()
    reserved_instances: tuple[ReservedInstance, ...] = ()
    capacity_reservations: tuple[CapacityReservation, ...] = ()
    iam_principals: tuple[Principal, ...] = ()
    credits: tuple[Adjustment, ...] = ()
    refunds: tuple[Adjustment, ...] = ()
    tax_rate: float = 0.0
    tax_type: str = "Sales Tax"
    support: str = "business"
    edp_percent: float = 0.0
    shape: Shape = field(default_factory=Shape)
    spikes: tuple[Spike, ...] = ()


_TYPES = {str: "a string", int: "an integer", float: "a number", dict: "a mapping"}


def _value(path: str, raw: Any, kind: Any) -> Any:
    if kind is float and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if kind is int and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if kind is str and isinstance(raw, str | int) and not isinstance(raw, bool):
        return str(raw)
    if kind is dict and isinstance(raw, dict):
        bad = [k for k, v in raw.items() if not isinstance(v, str | int | float)]
        if bad:
            raise ScenarioError(f"{path}.{bad[0]}: must be a string")
        return {str(k): str(v) for k, v in raw.items()}
    raise ScenarioError(f"{path}: must be {_TYPES.get(kind, kind)}, got {raw!r}")


def _record(path: str, raw: Any, cls: type[Any]) -> Any:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: must be a mapping")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ScenarioError(f"{path}.{unknown[0]}: unknown field (valid: {', '.join(known)})")
    kinds = {"str": str, "int": int, "float": float, "dict[str, str]": dict}
    values: dict[str, Any] = {}
    for name, f in known.items():
        if name in raw:
            values[name] = _value(f"{path}.{name}", raw[name], kinds[str(f.type)])
    try:
        return cls(**values)
    except TypeError:
        missing = [n for n, f in known.items() if n not in values and _required(f)]
        raise ScenarioError(f"{path}.{missing[0]}: required") from None


def _required(f: Any) -> bool:
    from dataclasses import MISSING

    return bool(f.default is MISSING and f.default_factory is MISSING)


def _records(path: str, raw: Any, cls: type[Any]) -> tuple[Any, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ScenarioError(f"{path}: must be a list")
    return tuple(_record(f"{path}[{i}]", item, cls) for i, item in enumerate(raw))


def _choice(path: str, value: str, valid: Any) -> None:
    if value not in valid:
        raise ScenarioError(f"{path}: {value!r} is not one of {', '.join(sorted(valid))}")


def from_dict(raw: Any) -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError("scenario: must be a mapping")
    top = "organization resources savings_plans reserved_instances capacity_reservations "
    top += "iam_principals credits refunds tax support discounts shape spikes"
    unknown = sorted(set(raw) - set(top.split()))
    if unknown:
        raise ScenarioError(f"scenario.{unknown[0]}: unknown field (valid: {top})")
    org = raw.get("organization") or {}
    if not isinstance(org, dict):
        raise ScenarioError("scenario.organization: must be a mapping")
    accounts = _records("scenario.organization.accounts", org.get("accounts"), Account)
    categories = org.get("cost_categories") or {}
    if not isinstance(categories, dict):
        raise ScenarioError("scenario.organization.cost_categories: must be a mapping")
    tax = _mapping("scenario.tax", raw.get("tax"))
    shape_raw = _mapping("scenario.shape", raw.get("shape"))
    discounts = _mapping("scenario.discounts", raw.get("discounts"))
    if "resources" not in raw:
        raise ScenarioError("scenario.resources: required")
    scenario = Scenario(
        resources=_records("scenario.resources", raw["resources"], Resource),
        payer_name=_value(
            "scenario.organization.payer_name", org.get("payer_name", "Example Corp"), str
        ),
        accounts=accounts,
        cost_categories={
            str(k): _value(f"scenario.organization.cost_categories.{k}", v, dict)
            for k, v in categories.items()
        },
        savings_plans=_records("scenario.savings_plans", raw.get("savings_plans"), SavingsPlan),
        reserved_instances=_records(
            "scenario.reserved_instances", raw.get("reserved_instances"), ReservedInstance
        ),
        capacity_reservations=_records(
            "scenario.capacity_reservations", raw.get("capacity_reservations"), CapacityReservation
        ),
        iam_principals=_records("scenario.iam_principals", raw.get("iam_principals"), Principal),
        credits=_records("scenario.credits", raw.get("credits"), Adjustment),
        refunds=_records("scenario.refunds", raw.get("refunds"), Adjustment),
        tax_rate=_value("scenario.tax.rate", tax.get("rate", 0.0), float),
        tax_type=_value("scenario.tax.type", tax.get("type", "Sales Tax"), str),
        support=_value("scenario.support", raw.get("support", "business"), str),
        edp_percent=_value(
            "scenario.discounts.edp_percent", discounts.get("edp_percent", 0.0), float
        ),
        shape=_record("scenario.shape", shape_raw, Shape),
        spikes=_records("scenario.spikes", raw.get("spikes"), Spike),
    )
    _check(scenario)
    return scenario


def _mapping(path: str, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: must be a mapping")
    return raw


def _check(sc: Scenario) -> None:
    account_keys = {"payer"} | {a.key for a in sc.accounts}
    sp_keys = {p.key for p in sc.savings_plans}
    ri_keys = {r.key for r in sc.reserved_instances}
    cr_keys = {c.key for c in sc.capacity_reservations}
    _choice("scenario.support", sc.support, ("business", "none"))
    if not 0 <= sc.edp_percent < 100:
        raise ScenarioError("scenario.discounts.edp_percent: must be between 0 and 100")
    if not 0 <= sc.tax_rate < 1:
        raise ScenarioError("scenario.tax.rate: must be a fraction between 0 and 1")
    for i, r in enumerate(sc.resources):
        p = f"scenario.resources[{i}]"
        _choice(f"{p}.kind", r.kind, KINDS)
        _choice(f"{p}.account", r.account, account_keys)
        _choice(f"{p}.region", r.region, catalog.REGIONS)
        _choice(f"{p}.pattern", r.pattern, set(PATTERN_IDS) - {"once"})
        _choice(f"{p}.os", r.os, catalog.OPERATING_SYSTEMS)
        if r.kind == "ec2":
            _choice(f"{p}.type", r.type, catalog.EC2_TYPES)
        if r.kind == "rds":
            _choice(f"{p}.type", r.type, catalog.RDS_TYPES)
        if r.count < 1:
            raise ScenarioError(f"{p}.count: must be at least 1")
        if not 1 <= r.start_day <= 28:
            raise ScenarioError(f"{p}.start_day: must be between 1 and 28")
        if r.savings_plan:
            _choice(f"{p}.savings_plan", r.savings_plan, sp_keys)
        if r.reservation:
            _choice(f"{p}.reservation", r.reservation, ri_keys)
        if r.capacity_reservation:
            _choice(f"{p}.capacity_reservation", r.capacity_reservation, cr_keys)
        if r.containers:
            _check_containers(p, r)
        if r.principal:
            _choice(f"{p}.principal", r.principal, {x.key for x in sc.iam_principals})
    for i, principal in enumerate(sc.iam_principals):
        p = f"scenario.iam_principals[{i}]"
        _choice(f"{p}.kind", principal.kind, ("role", "user"))
        _choice(f"{p}.account", principal.account, account_keys)
    for i, ri in enumerate(sc.reserved_instances):
        p = f"scenario.reserved_instances[{i}]"
        _choice(f"{p}.service", ri.service, ("ec2", "rds"))
        _choice(
            f"{p}.type", ri.type, catalog.RDS_TYPES if ri.service == "rds" else catalog.EC2_TYPES
        )
        _choice(f"{p}.account", ri.account, account_keys)
        _choice(f"{p}.term", ri.term, ("1yr", "3yr"))
        _choice(f"{p}.payment", ri.payment, ("No Upfront", "Partial Upfront", "All Upfront"))
    for i, sp in enumerate(sc.savings_plans):
        _choice(f"scenario.savings_plans[{i}].term", sp.term, ("1yr", "3yr"))
        _choice(f"scenario.savings_plans[{i}].payment", sp.payment, ("No Upfront",))
    for i, cr in enumerate(sc.capacity_reservations):
        _choice(f"scenario.capacity_reservations[{i}].type", cr.type, catalog.EC2_TYPES)
        _choice(f"scenario.capacity_reservations[{i}].account", cr.account, account_keys)
    for name, items in (("credits", sc.credits), ("refunds", sc.refunds)):
        for i, adj in enumerate(items):
            _choice(f"scenario.{name}[{i}].account", adj.account, account_keys)
    for i, spike in enumerate(sc.spikes):
        _check_spike(f"scenario.spikes[{i}]", spike, account_keys)


def _check_spike(p: str, spike: Spike, account_keys: set[str]) -> None:
    if not spike.service and not spike.account:
        raise ScenarioError(f"{p}.service: a spike needs a service, an account or both")
    if spike.service:
        _choice(f"{p}.service", spike.service, catalog.SERVICES)
    if spike.account:
        _choice(f"{p}.account", spike.account, account_keys)
    for name, value, low, high in (
        ("months_back", spike.months_back, 0, 120),
        ("day", spike.day, 1, 28),
        ("start_hour", spike.start_hour, 0, 23),
        ("hours", spike.hours, 1, 168),
    ):
        if not low <= value <= high:
            raise ScenarioError(f"{p}.{name}: must be between {low} and {high}")
    if spike.factor <= 0:
        raise ScenarioError(f"{p}.factor: must be greater than 0")


def _check_containers(p: str, r: Resource) -> None:
    """Tasks must fit on their instance (their reservations, not their actual use)."""
    _choice(f"{p}.containers", r.containers, ("ecs", "eks"))
    if r.kind != "ec2":
        raise ScenarioError(f"{p}.containers: only ec2 instances host containers")
    if r.tasks < 1:
        raise ScenarioError(f"{p}.tasks: must be at least 1 with containers")
    _price, vcpu, memory = catalog.EC2_TYPES[r.type]
    for name, each, capacity in (("task_vcpu", r.task_vcpu, vcpu), ("task_memory_gb",
                                 r.task_memory_gb, memory)):  # fmt: skip
        if each <= 0:
            raise ScenarioError(f"{p}.{name}: must be greater than 0 with containers")
        if each * r.tasks > capacity:
            raise ScenarioError(
                f"{p}.{name}: {r.tasks} tasks x {each:g} exceed the {r.type}'s {capacity:g}"
            )


def load(path: str | Path) -> Scenario:
    """Read a YAML or JSON scenario file; raises ScenarioError with the field at fault."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        if str(path).endswith(".json"):
            raw = json.loads(text)
        else:
            import yaml

            raw = yaml.safe_load(text)
    except (ValueError, ImportError) as err:
        raise ScenarioError(f"{path}: cannot parse: {err}") from None
    except Exception as err:  # yaml.YAMLError
        raise ScenarioError(f"{path}: cannot parse: {err}") from None
    return from_dict(raw)
