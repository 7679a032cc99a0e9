"""Split cost allocation data: ECS tasks and EKS pods on EC2 instances, costed the way
AWS documents it ("Example of split cost allocation data", CUR user guide).

Each task or pod adds two usage records per time slot, one for vCPU and one for memory
(`<prefix>ECS-EC2-vCPU-Hours` / `-GB-Hours`, `EKS-EC2-...` for pods), carrying the
`split_line_item_*` values; their own unblended cost is 0, so totals do not change.
Per hour of the parent instance, with its amortized cost C (the on-demand rate, the
Savings Plan rate or the reservation's effective rate), V vCPUs and M GiB:

- unit weights 9 (vCPU) : 1 (GiB): the vCPU records share C * 9V / (9V + M), memory the rest;
- split usage = max(reserved, actual) of the task; split usage ratio = split usage / V (or M);
- split cost = ratio * share; the instance's unused capacity (1 - sum of ratios) * share
  is spread over its tasks in proportion to their ratios (unused cost);
so per instance and slot the tasks' split + unused costs add up to C, and the ratios of
each resource sum to at most 1. Public on-demand variants use the public rate instead of C;
net variants apply the EDP discount (null without one). Usage is constant per task, so
every figure is a per-hour rate computed here; the model multiplies by the slot's hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from bcm_local.billing import catalog
from bcm_local.billing.scenario import ids
from bcm_local.billing.scenario.definition import Resource
from bcm_local.billing.usage.lines import UsageLine

CPU_WEIGHT, MEMORY_WEIGHT = 9.0, 1.0
KINDS = ("ecs", "eks")
# split figures of a line (per hour of the parent), in the model's column order
FIELDS = (
    "alloc",
    "actual",
    "ratio",
    "cost",
    "unused",
    "od_cost",
    "od_unused",
    "net_cost",
    "net_unused",
)


def amortized_rate(line: UsageLine) -> float:
    """The instance's amortized cost per hour, as its commitment (if any) prices it."""
    kind = line.commitment.get("kind")
    if kind == "sp":
        return float(line.commitment["rate"])
    if kind == "ri":
        return float(line.commitment["effective"])
    return line.price


def _allocations(
    seed: int, res: Resource, instance_id: str, capacity: float, reserved: float, what: str
) -> list[tuple[float, float]]:
    """(actual, allocated) per task: actual usage bursts above the reservation only into
    the instance's spare capacity, so allocations never exceed it."""
    spare = max(capacity - reserved * res.tasks, 0.0) / res.tasks
    low, span = (0.3, 1.0) if what == "vcpu" else (0.6, 0.55)
    out = []
    for n in range(res.tasks):
        utilisation = low + span * ids.digest("split", seed, instance_id, n, what)[0] / 255
        actual = min(reserved * utilisation, reserved + spare)
        out.append((actual, max(reserved, actual)))
    return out


def workload_lines(
    seed: int, res: Resource, instance: UsageLine, edp_percent: float
) -> Iterator[UsageLine]:
    """The split-cost records of the tasks (pods) running on one instance line."""
    _price, vcpu, memory = catalog.EC2_TYPES[res.type]
    parent = str(instance.resource_id)
    cost, public = amortized_rate(instance), instance.list_price
    total = CPU_WEIGHT * vcpu + MEMORY_WEIGHT * memory
    net = 1 - edp_percent / 100 if edp_percent > 0 else None
    eks = res.containers == "eks"
    product = "AmazonEKS" if eks else "AmazonECS"
    region = catalog.region(res.region)
    resources = (
        ("vcpu", "vCPU", float(vcpu), res.task_vcpu, CPU_WEIGHT * vcpu / total),
        ("memory", "GB", float(memory), res.task_memory_gb, MEMORY_WEIGHT * memory / total),
    )
    task_ids = [ids.hex_id(32, seed, parent, "task", n) for n in range(res.tasks)]
    for what, unit, capacity, reserved, share in resources:
        allocations = _allocations(seed, res, parent, capacity, reserved, what)
        ratios = [alloc / capacity for _, alloc in allocations]
        unused = max(1.0 - sum(ratios), 0.0)
        for n, ((actual, alloc), ratio) in enumerate(zip(allocations, ratios, strict=True)):
            spread = unused * ratio / sum(ratios)
            figures = {
                "alloc": alloc,
                "actual": actual,
                "ratio": ratio,
                "cost": ratio * cost * share,
                "unused": spread * cost * share,
                "od_cost": ratio * public * share,
                "od_unused": spread * public * share,
            }
            if net is not None:
                figures["net_cost"] = figures["cost"] * net
                figures["net_unused"] = figures["unused"] * net
            name = f"{res.name}-{'pod' if eks else 'task'}-{n + 1}"
            arn = (
                f"arn:aws:eks:{res.region}:{instance.account_id}:pod/{res.name}/default/{name}/"
                f"{ids.uuid_of(task_ids[n])}"
                if eks
                else f"arn:aws:ecs:{res.region}:{instance.account_id}:task/{res.name}/{task_ids[n]}"
            )
            usage = f"{'EKS' if eks else 'ECS'}-EC2-{unit}-Hours"
            yield replace(
                instance,
                product_code=product,
                service_code=product,
                service_name=catalog.SERVICES[product][0],
                usage_type=region.prefix + usage,
                operation="EKSPod-EC2" if eks else "ECSTask-EC2",
                unit=f"{unit}-Hours",
                rate=reserved,
                price=0.0,
                list_price=0.0,
                description=f"{'EKS pod' if eks else 'ECS task'} {unit} hours on EC2 "
                "(split cost allocation)",
                product_family="",
                resource_id=arn,
                resource_name=name,
                resource_type="Pod" if eks else "Task",
                line_item_type="Usage",
                tags=dict(res.tags),
                product={},
                sku="",
                instance_type=None,
                instance_family=None,
                normalization_factor=None,
                pricing_term="",
                purchase_option=None,
                capacity_reservation_arn=None,
                capacity_reservation_status=None,
                capacity_reservation_type=None,
                commitment={},
                split_parent=parent,
                split=figures,
            )
