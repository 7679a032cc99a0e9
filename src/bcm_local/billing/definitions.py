"""What an account defines on its bill, as kept in the store: cost categories (each with its
versions over time) and the status history of its cost allocation tags, with the backfills
that rewrote it. Cost Explorer's operations (services/ce) write these records; every bill
built for the account (billing/bill.py) applies them (billing/categories.py), so an export
delivered afterwards, Cost Explorer and the console read the same categorized bill.

Records (namespaces, keys `<account>::...`):
- `cost-categories`, `<account>::<arn>`: {arn, name, created, ended (the EffectiveEnd of a
  deleted category, else None), versions: [{start, RuleVersion, Rules, DefaultValue?,
  SplitChargeRules?}] by start}. Version i holds from its start to the next one's.
- `cost-allocation-tags`, `<account>::<key>`: {TagKey, Type, changes: [[at, month, status]]}
  where `month` (YYYY-MM) is the first billing period the change applies to.
- `cost-allocation-backfills`, `<account>::<requested at>`: AWS's backfill request fields.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from bcm_local.store import Store

CATEGORIES = "cost-categories"
TAGS = "cost-allocation-tags"
BACKFILLS = "cost-allocation-backfills"
AWS_PREFIX = "aws:"


def key(account: str, name: str) -> str:
    return f"{account}::{name}"


@dataclass(frozen=True)
class Definitions:
    categories: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)  # by tag key
    backfills: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.categories or self.tags)

    def versions(self, month: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(category, its version) of each category in force for the billing period
        `month` (YYYY-MM), by name."""
        out = []
        for category in sorted(self.categories, key=lambda c: str(c["name"])):
            version = version_on(category, month)
            if version is not None:
                out.append((category, version))
        return out

    def status(self, tag: str, month: str) -> str:
        """The tag's status in the billing period `month`: the latest change that applies
        to it (a backfill from month M made every change requested before it apply from M
        on). A key never changed is Active when user-defined (the scenario's tags start
        active), Inactive when AWS-generated, as in AWS."""
        default = "Inactive" if tag.startswith(AWS_PREFIX) else "Active"
        record = self.tags.get(tag)
        if record is None:
            return default
        found = default
        for at, applies, status in record["changes"]:
            reach = [str(b["BackfillFrom"])[:7] for b in self.backfills if b["RequestedAt"] >= at]
            if min([applies, *reach]) <= month:
                found = status
        return found


def version_on(category: dict[str, Any], month: str) -> dict[str, Any] | None:
    """The category's version in force for the billing period `month` (YYYY-MM), if any."""
    ended = category.get("ended")
    if ended is not None and str(ended)[:7] <= month:
        return None
    found = None
    for version in category["versions"]:
        if str(version["start"])[:7] <= month:
            found = version
    return found


def of(store: Store, account: str) -> Definitions:
    prefix = f"{account}::"
    return Definitions(
        [r.value for r in store.scan(CATEGORIES, prefix)],
        {r.value["TagKey"]: r.value for r in store.scan(TAGS, prefix)},
        [r.value for r in store.scan(BACKFILLS, prefix)],
    )


def version(store: Store, account: str) -> str:
    """A digest of the account's definitions: a bill built under other ones is stale."""
    found = of(store, account)
    if not found:
        return ""
    body = orjson.dumps(
        [found.categories, found.tags, found.backfills], option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(body).hexdigest()
