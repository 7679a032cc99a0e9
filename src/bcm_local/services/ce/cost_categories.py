"""Cost categories (`ce`): Create/Describe/Update/Delete/ListCostCategoryDefinitions and
ListCostCategoryResourceAssociations. The records are billing/definitions.py's; every bill
built afterwards applies them (billing/categories.py), so GetCostAndUsage's COST_CATEGORY
groups and filters, GetCostCategories and the exports all read the same values.

A category has versions over time: Create starts one at EffectiveStart (the first day of a
month, the current one by default, no earlier than twelve months back and not in the
future); Update starts a new one there (versions from that month on are replaced, so an
earlier EffectiveStart rewrites history as AWS's retroactive rules do); Delete ends the
category at the start of the current month (earlier months keep it, as in AWS: "expenses
from this month going forward will no longer be categorized"). Everything is validated
before anything is written, so a failed call leaves the definition in force.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from bcm_local.billing import categories, definitions
from bcm_local.billing.expressions import filters
from bcm_local.billing.scenario.periods import add_months, month_start
from bcm_local.runtime import Context
from bcm_local.services import billing_views, tagging
from bcm_local.services.ce import bills, paging, resource_tags
from bcm_local.services.registry import Handler
from bcm_local.wire.errors import AwsError

Result = dict[str, Any]
MAX_CATEGORIES = 50  # per account (ServiceQuotaExceededException beyond)
MAX_RESULTS = 100
APPLIED = [{"Component": "COST_EXPLORER", "Status": "APPLIED"}]


def invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(value: str, member: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"{member} {value} is not an ISO 8601 date and time.") from None


def billing_start(ctx: Context, value: str | None, member: str) -> str:
    """A month's first instant as AWS takes it: the current month by default, no earlier
    than twelve months back, not in the future."""
    current = month_start(ctx.clock.now())
    if value is None:
        return _stamp(current)
    moment = _moment(value, member)
    if month_start(moment) != moment:
        raise invalid(f"{member} must be the first day of a month at 00:00:00 UTC: {value}.")
    if moment > current:
        raise invalid(f"{member} {value} cannot be in the future.")
    if moment < add_months(current, -12):
        raise invalid(f"{member} {value} cannot be before the previous twelve months.")
    return _stamp(moment)


def not_found(arn: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException", f"No Cost Categories found with ID {arn}", ResourceName=arn
    )


def _records(ctx: Context) -> list[dict[str, Any]]:
    return [r.value for r in ctx.store.scan(definitions.CATEGORIES, f"{ctx.account_id}::")]


def _live(ctx: Context) -> list[dict[str, Any]]:
    return [r for r in _records(ctx) if r.get("ended") is None]


def find(ctx: Context, arn: str) -> dict[str, Any]:
    record = ctx.store.get(definitions.CATEGORIES, definitions.key(ctx.account_id, arn))
    if record is None:
        raise not_found(arn)
    return record


def _rule(rule: dict[str, Any], position: int) -> dict[str, Any]:
    kind = rule.get("Type") or "REGULAR"
    where = f"Rules[{position}]"
    if kind == "INHERITED_VALUE":
        inherited = rule.get("InheritedValue") or {}
        name = inherited.get("DimensionName")
        if name is None:
            raise invalid(f"{where}: an INHERITED_VALUE rule needs InheritedValue.DimensionName.")
        if name == "TAG" and not inherited.get("DimensionKey"):
            raise invalid(f"{where}: an inherited TAG value needs InheritedValue.DimensionKey.")
        if rule.get("Rule") is not None or rule.get("Value") is not None:
            raise invalid(f"{where}: an INHERITED_VALUE rule takes no Rule and no Value.")
        return {"Type": kind, "InheritedValue": inherited}
    if rule.get("InheritedValue") is not None:
        raise invalid(f"{where}: InheritedValue belongs to INHERITED_VALUE rules only.")
    if not rule.get("Value") or not rule.get("Rule"):
        raise invalid(f"{where}: a REGULAR rule needs a Value and a Rule.")
    if rule["Rule"].get("Or") is not None:
        raise invalid(
            f"{where}: root level OR isn't supported. Create a separate rule for each operand."
        )
    filters.condition(rule["Rule"], categories.RULE_DIMENSIONS)  # unknown dimensions fail
    return {"Value": rule["Value"], "Rule": rule["Rule"], "Type": kind}


def _values(rules: list[dict[str, Any]], default: str | None) -> list[str]:
    found = [str(r["Value"]) for r in rules if r.get("Value")]
    return list(dict.fromkeys([*found, *([default] if default else [])]))


def _split_rules(splits: list[dict[str, Any]] | None, values: list[str]) -> list[dict[str, Any]]:
    """AWS's split charge rules: a source (a value, or "" for uncategorized costs) used by
    one rule only, targets among the values and never a source, FIXED percentages that
    add up to 100 (one per target)."""
    if not splits:
        return []
    sources = [s["Source"] for s in splits]
    if len(set(sources)) != len(sources):
        raise invalid("SplitChargeRules: a value can be the source of one rule only.")
    known = set(values)
    for split in splits:
        source, targets = split["Source"], list(split["Targets"])
        if source and source not in known:
            raise invalid(f"SplitChargeRules: source {source} is not a value of the category.")
        for target in targets:
            if target not in known:
                raise invalid(f"SplitChargeRules: target {target} is not a value of the category.")
            if target in sources:
                raise invalid(f"SplitChargeRules: {target} is a source; it cannot be a target.")
        parameters = split.get("Parameters") or []
        if split["Method"] == "FIXED":
            shares = [p for p in parameters if p["Type"] == "ALLOCATION_PERCENTAGES"]
            if not shares or len(shares[0]["Values"]) != len(targets):
                raise invalid("SplitChargeRules: FIXED needs one allocation percentage per target.")
            try:
                total = sum(float(v) for v in shares[0]["Values"])
            except ValueError:
                raise invalid("SplitChargeRules: allocation percentages are numbers.") from None
            if abs(total - 100) > 1e-9:
                raise invalid("SplitChargeRules: FIXED allocation percentages must add up to 100.")
        elif parameters:
            raise invalid(f"SplitChargeRules: {split['Method']} takes no Parameters.")
    return splits


def allocation_tag_keys(ctx: Context) -> list[str]:
    """The account's cost allocation tag keys: those on its bill and those it has set."""
    on_bill = bills.for_call(ctx).tag_keys
    return sorted(set(on_bill) | set(definitions.of(ctx.store, ctx.account_id).tags))


def _tag_keys(rules: list[dict[str, Any]]) -> set[str]:
    """The tag keys the rules read: Tags leaves and inherited TAG values."""
    found = categories.leaf_keys(rules, "Tags")
    for rule in rules:
        inherited = rule.get("InheritedValue") or {}
        if inherited.get("DimensionName") == "TAG":
            found.add(str(inherited.get("DimensionKey")))
    return found


def _version(ctx: Context, name: str, params: dict[str, Any], start: str) -> dict[str, Any]:
    """A version from a request, validated, including its references to other categories
    (they must exist, and no category may depend on itself through them)."""
    rules = [_rule(r, i) for i, r in enumerate(params["Rules"])]
    default = params.get("DefaultValue")
    version: dict[str, Any] = {"start": start, "RuleVersion": params["RuleVersion"], "Rules": rules}
    if default:
        version["DefaultValue"] = default
    splits = _split_rules(params.get("SplitChargeRules"), _values(rules, default))
    if splits:
        version["SplitChargeRules"] = splits
    unknown = sorted(_tag_keys(rules) - set(allocation_tag_keys(ctx)))
    if unknown:
        raise invalid(f"Rules refer to tag {unknown[0]}, which is not a cost allocation tag.")
    others = {r["name"]: r for r in _live(ctx) if r["name"] != name}
    for ref in sorted(categories.referenced(rules)):
        if ref == name:
            raise invalid(f"Cost category {name} cannot refer to itself.")
        if ref not in others:
            raise invalid(f"Rules refer to cost category {ref}, which does not exist.")
    pending = list(categories.referenced(rules))
    seen: set[str] = set()
    while pending:  # the categories those refer to, and so on: a cycle back is refused
        ref = pending.pop()
        if ref == name:
            raise invalid(f"Cost category {name} would depend on itself through its rules.")
        if ref in seen or ref not in others:
            continue
        seen.add(ref)
        for v in others[ref]["versions"]:
            pending.extend(categories.referenced(v["Rules"]))
    return version


def create_cost_category_definition(ctx: Context, **params: Any) -> Result:
    name = params["Name"]
    live = _live(ctx)
    if any(r["name"] == name for r in live):
        raise invalid(f"Failed to create Cost Category: Cost category name {name} already exists.")
    if len(live) >= MAX_CATEGORIES:
        raise AwsError(
            "ServiceQuotaExceededException",
            f"You have reached the limit of {MAX_CATEGORIES} cost categories.",
        )
    start = billing_start(ctx, params.get("EffectiveStart"), "EffectiveStart")
    version = _version(ctx, name, params, start)
    arn = f"arn:aws:ce::{ctx.account_id}:costcategory/{uuid.uuid4()}"
    record = {
        "arn": arn,
        "name": name,
        "created": _stamp(ctx.clock.now()),
        "ended": None,
        "versions": [version],
    }
    with ctx.store.transaction():
        ctx.store.put(definitions.CATEGORIES, definitions.key(ctx.account_id, arn), record)
        resource_tags.attach(ctx, arn, params.get("ResourceTags"))
    return {"CostCategoryArn": arn, "EffectiveStart": start}


def update_cost_category_definition(ctx: Context, **params: Any) -> Result:
    arn = params["CostCategoryArn"]
    record = find(ctx, arn)
    if record.get("ended") is not None:
        raise not_found(arn)
    start = billing_start(ctx, params.get("EffectiveStart"), "EffectiveStart")
    version = _version(ctx, record["name"], params, start)
    kept = [v for v in record["versions"] if v["start"] < start]
    updated = {**record, "versions": [*kept, version]}
    ctx.store.put(definitions.CATEGORIES, definitions.key(ctx.account_id, arn), updated)
    return {"CostCategoryArn": arn, "EffectiveStart": start}


def delete_cost_category_definition(ctx: Context, CostCategoryArn: str) -> Result:
    record = find(ctx, CostCategoryArn)
    if record.get("ended") is not None:
        raise not_found(CostCategoryArn)
    end = _stamp(month_start(ctx.clock.now()))
    key = definitions.key(ctx.account_id, CostCategoryArn)
    with ctx.store.transaction():
        if record["versions"][0]["start"] >= end:  # it never applied to a closed month
            ctx.store.delete(definitions.CATEGORIES, key)
            tagging.drop(ctx.store, ctx.account_id, CostCategoryArn)
        else:
            ctx.store.put(definitions.CATEGORIES, key, {**record, "ended": end})
    return {"CostCategoryArn": CostCategoryArn, "EffectiveEnd": end}


def _on(ctx: Context, value: str | None) -> str:
    """The month (YYYY-MM) of EffectiveOn (now by default)."""
    moment = ctx.clock.now() if value is None else _moment(value, "EffectiveOn")
    return _stamp(moment)[:7]


def _bounds(record: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    later = [v["start"] for v in record["versions"] if v["start"] > version["start"]]
    end = later[0] if later else record.get("ended")
    return {"EffectiveStart": version["start"], **({"EffectiveEnd": end} if end else {})}


def describe_cost_category_definition(
    ctx: Context, CostCategoryArn: str, EffectiveOn: str | None = None
) -> Result:
    record = find(ctx, CostCategoryArn)
    version = definitions.version_on(record, _on(ctx, EffectiveOn))
    if version is None:
        raise not_found(CostCategoryArn)
    out: Result = {"CostCategoryArn": record["arn"], "Name": record["name"]}
    out |= _bounds(record, version)
    out |= {
        k: version[k]
        for k in ("RuleVersion", "Rules", "DefaultValue", "SplitChargeRules")
        if k in version
    }
    out["ProcessingStatus"] = APPLIED
    return {"CostCategory": out}


def _page(
    ctx: Context, listing: str, items: list[Any], token: str | None, size: int | None
) -> tuple[list[Any], str | None]:
    if size is not None and not 1 <= size <= MAX_RESULTS:
        raise invalid(f"MaxResults must be between 1 and {MAX_RESULTS}.")
    return paging.listed(ctx.store, listing, items, token, size or MAX_RESULTS)


def _referencing_views(ctx: Context, name: str) -> list[str]:
    """The billing views whose data filter names the category."""
    found = []
    for view in billing_views.custom_views(ctx.store, ctx.account_id):
        expression = billing_views.scope(ctx.store, ctx.account_id, view["arn"])
        if name in categories.referenced([{"Rule": expression}]):
            found.append(view["arn"])
    return found


def list_cost_category_definitions(
    ctx: Context,
    EffectiveOn: str | None = None,
    NextToken: str | None = None,
    MaxResults: int | None = None,
    SupportedResourceTypes: list[str] | None = None,
) -> Result:
    month = _on(ctx, EffectiveOn)
    found = []
    for record in sorted(_records(ctx), key=lambda r: (r["name"], r["arn"])):
        version = definitions.version_on(record, month)
        if version is None:
            continue
        if SupportedResourceTypes and "billing:billingview" not in SupportedResourceTypes:
            continue
        found.append(
            {
                "CostCategoryArn": record["arn"],
                "Name": record["name"],
                **_bounds(record, version),
                "NumberOfRules": len(version["Rules"]),
                "ProcessingStatus": APPLIED,
                "Values": _values(version["Rules"], version.get("DefaultValue")),
                **({"DefaultValue": version["DefaultValue"]} if "DefaultValue" in version else {}),
                "SupportedResourceTypes": ["billing:billingview"],
            }
        )
    listing = f"ce-categories:{ctx.account_id}:{month}:{SupportedResourceTypes}"
    page, token = _page(ctx, listing, found, NextToken, MaxResults)
    return {"CostCategoryReferences": page, **({"NextToken": token} if token else {})}


def list_cost_category_resource_associations(
    ctx: Context,
    CostCategoryArn: str | None = None,
    NextToken: str | None = None,
    MaxResults: int | None = None,
) -> Result:
    """The resources that use a category: the billing views that filter on it."""
    records = [find(ctx, CostCategoryArn)] if CostCategoryArn else _live(ctx)
    found = [
        {"ResourceArn": view, "CostCategoryName": r["name"], "CostCategoryArn": r["arn"]}
        for r in sorted(records, key=lambda r: (r["name"], r["arn"]))
        for view in _referencing_views(ctx, r["name"])
    ]
    listing = f"ce-category-resources:{ctx.account_id}:{CostCategoryArn}"
    page, token = _page(ctx, listing, found, NextToken, MaxResults)
    return {"CostCategoryResourceAssociations": page, **({"NextToken": token} if token else {})}


OPERATIONS: dict[str, Handler] = {
    "CreateCostCategoryDefinition": create_cost_category_definition,
    "DescribeCostCategoryDefinition": describe_cost_category_definition,
    "UpdateCostCategoryDefinition": update_cost_category_definition,
    "DeleteCostCategoryDefinition": delete_cost_category_definition,
    "ListCostCategoryDefinitions": list_cost_category_definitions,
    "ListCostCategoryResourceAssociations": list_cost_category_resource_associations,
}
