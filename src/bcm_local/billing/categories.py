"""An account's definitions (billing/definitions.py) applied to its built bill: cost
allocation tags that are not active in a billing period leave that period's lines, and each
cost category in force in a period gives each of its lines a value.

Both rewrite the model's `lines_all` once, in DuckDB, so every table reads the result:
CUR 2.0's `cost_category` map and `tags` (`costCategory/<name>`), FOCUS's `x_CostCategories`
and `Tags`, legacy CUR's `costCategory/<name>` and `resourceTags/...` columns, and Cost
Explorer's facts (which read CUR 2.0).

A category's rules are Cost Explorer Expressions (billing/expressions/filters.py), read
over the line as Cost Explorer sees it: LINKED_ACCOUNT, LINKED_ACCOUNT_NAME, SERVICE_CODE,
RECORD_TYPE, REGION and USAGE_TYPE with CE's placeholders, the line's active user tags and
the values of the categories it depends on (evaluated first). The first rule that matches
gives the value: a REGULAR rule its Value, an INHERITED_VALUE rule the line's tag value or
account name (when the line has one). A line no rule matches gets the DefaultValue, or no
value. Split charge rules are kept with the category and not applied to line items: AWS
shows split charges on the cost category's page only, never in Cost Explorer or the CUR.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bcm_local.billing.definitions import Definitions
from bcm_local.billing.expressions import filters
from bcm_local.billing.model.build import Dataset, line_views
from bcm_local.billing.model.columns import cur_tag_key

# the dimensions a cost category rule may use (CostCategoryRule.Rule in the ce model)
RULE_DIMENSIONS = (
    "LINKED_ACCOUNT",
    "LINKED_ACCOUNT_NAME",
    "SERVICE_CODE",
    "RECORD_TYPE",
    "REGION",
    "USAGE_TYPE",
)
_DIMENSIONS = {
    "LINKED_ACCOUNT": "coalesce(CAST(account_id AS VARCHAR), '')",
    "LINKED_ACCOUNT_NAME": "coalesce(CAST(account_name AS VARCHAR), '')",
    "SERVICE_CODE": "coalesce(CAST(product_code AS VARCHAR), '')",
    "RECORD_TYPE": "coalesce(CAST(line_item_type AS VARCHAR), '')",
    "REGION": "coalesce(NULLIF(CAST(region AS VARCHAR), ''), 'NoRegion')",
    "USAGE_TYPE": "coalesce(NULLIF(CAST(usage_type AS VARCHAR), ''), 'NoUsageType')",
}
_USER_TAGS = (
    "map_from_entries(list_transform(list_filter(map_entries(CAST(cur_all_tags AS "
    "MAP(VARCHAR, VARCHAR))), lambda e: starts_with(e.key, 'resourceTags/')), lambda e: "
    "{'key': regexp_replace(e.key[14:], '^user:', ''), 'value': e.value}))"
)


# each tag map column of the lines and how a tag key appears in it
def _resource_tag(key: str) -> str:
    return f"resourceTags/{key}"


def _as_is(key: str) -> str:
    return key


_TAG_COLUMNS: dict[str, Callable[[str], str]] = {
    "cur_tags": cur_tag_key,
    "focus_tags": _as_is,
    "cur_all_tags": _resource_tag,
    "cur_all_tags_iam": _resource_tag,
}
_CATEGORY_PREFIX = "costCategory/"
_CATEGORY_TAGS = ("cur_all_tags", "cur_all_tags_iam")  # CUR 2.0 `tags` holds categories too


def _literal(value: str) -> str:
    return filters.literal(value)


def tag_keys(data: Dataset) -> dict[str, str]:
    """The user tag keys on the bill's lines and the last billing period (YYYY-MM) each
    is on (what ListCostAllocationTags lists, active or not)."""
    rows = data.con.execute(
        "SELECT k, max(period) FROM (SELECT unnest(map_keys(focus_tags))::VARCHAR AS k, period "
        "FROM lines_all) WHERE NOT starts_with(k, 'iamPrincipal/') GROUP BY k ORDER BY k"
    ).fetchall()
    labels = {p.index: p.label for p in data.periods}
    return {str(k): labels[int(p)] for k, p in rows}


def apply(data: Dataset, found: Definitions) -> None:
    """Rewrite `lines_all` under the account's definitions (nothing to do without any)."""
    if not found:
        return
    untagged = _inactive_tags(data, found)
    source = "lines_all"
    if untagged:
        replaced = ", ".join(f"{sql} AS {name}" for name, sql in untagged.items())
        source = f"(SELECT * REPLACE ({replaced}) FROM lines_all)"
    chain = _categorized(data, found, f"(SELECT *, {_frame()} FROM {source})")
    if chain is None and not untagged:
        return
    columns = list(untagged)
    if chain is None:
        query = f"SELECT * FROM {source}"
    else:
        helpers = "tags, cost_categories"
        tagged = ", ".join(f"{_with_categories(n)} AS {n}" for n in _CATEGORY_TAGS)
        query = (
            f"SELECT * EXCLUDE ({helpers}) REPLACE (cost_categories AS cost_category, "
            f"{tagged}) FROM {chain}"
        )
        columns += ["cost_category", *_CATEGORY_TAGS]
    con = data.con
    con.execute(f"CREATE OR REPLACE TABLE lines_all AS {query}")
    line_views(con, None, data.only)
    for name in dict.fromkeys(columns):
        keys = con.execute(
            f"SELECT DISTINCT unnest(map_keys({name}))::VARCHAR FROM lines_all ORDER BY 1"
        ).fetchall()
        kind = data.map_keys.get(name, ("VARCHAR", []))[0]
        if chain is not None and (name == "cost_category" or name in _CATEGORY_TAGS):
            kind = "VARCHAR"
        data.map_keys[name] = (kind, [str(k[0]) for k in keys])


def _frame() -> str:
    """The helper columns the rules read (dropped once the lines are rewritten)."""
    cost_categories = "CAST(cost_category AS MAP(VARCHAR, VARCHAR)) AS cost_categories"
    return f"{_USER_TAGS} AS tags, {cost_categories}"


def _without(column: str, keys: list[str], cast: str) -> str:
    quoted = ", ".join(_literal(k) for k in keys)
    return (
        f"CAST(map_from_entries(list_filter(map_entries({column}), "
        f"lambda e: e.key::VARCHAR NOT IN ({quoted}))) AS {cast})"
    )


def _inactive_tags(data: Dataset, found: Definitions) -> dict[str, str]:
    """Per tag map column, its SQL with each period's inactive tags taken out."""
    keys = data.tag_keys or tag_keys(data)
    off = {
        p.index: sorted(k for k in keys if found.status(k, p.label) == "Inactive")
        for p in data.periods
    }
    if not any(off.values()):
        return {}
    out = {}
    for column, spelled in _TAG_COLUMNS.items():
        kind = data.map_keys.get(column, ("VARCHAR", []))[0]
        cast = f"MAP({kind}, {kind.replace('k_', 'v_', 1) if kind != 'VARCHAR' else kind})"
        whens = " ".join(
            f"WHEN {index} THEN {_without(column, [spelled(k) for k in gone], cast)}"
            for index, gone in off.items()
            if gone
        )
        out[column] = f"CASE period {whens} ELSE {column} END"
    return out


def _order(categories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Categories after those their rules refer to (a cycle, refused when it is defined,
    keeps the stored order)."""
    names = {c["name"]: c for c in categories}
    done: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(category: dict[str, Any], path: set[str]) -> None:
        if category["name"] in seen or category["name"] in path:
            return
        for version in category["versions"]:
            for name in referenced(version["Rules"]):
                if name in names:
                    visit(names[name], path | {category["name"]})
        seen.add(category["name"])
        done.append(category)

    for category in sorted(categories, key=lambda c: str(c["name"])):
        visit(category, set())
    return done


def referenced(rules: list[dict[str, Any]]) -> set[str]:
    """The cost category names the rules' expressions refer to."""
    return leaf_keys(rules, "CostCategories")


def leaf_keys(rules: list[dict[str, Any]], root: str) -> set[str]:
    """The keys of the `root` leaves (Tags, CostCategories) of the rules' expressions."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            leaf = node.get(root)
            if isinstance(leaf, dict) and leaf.get("Key"):
                found.add(str(leaf["Key"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([r.get("Rule") for r in rules])
    return found


def value_sql(version: dict[str, Any]) -> str:
    """The SQL of one version's value for a line (NULL: uncategorized)."""
    whens = []
    for rule in version["Rules"]:
        if rule.get("Type") == "INHERITED_VALUE":
            inherited = rule.get("InheritedValue") or {}
            if inherited.get("DimensionName") == "TAG":
                value = f"tags[{_literal(str(inherited.get('DimensionKey') or ''))}]"
            else:
                value = _DIMENSIONS["LINKED_ACCOUNT_NAME"]
            whens.append(f"WHEN coalesce({value}, '') <> '' THEN {value}")
            continue
        test = filters.condition(rule["Rule"], RULE_DIMENSIONS, columns=_DIMENSIONS)
        whens.append(f"WHEN coalesce({test}, FALSE) THEN {_literal(str(rule['Value']))}")
    default = version.get("DefaultValue")
    otherwise = _literal(str(default)) if default else "NULL"
    return f"CASE {' '.join(whens)} ELSE {otherwise} END"


def _categorized(data: Dataset, found: Definitions, frame: str) -> str | None:
    """`frame` with its `cost_categories` (a VARCHAR map) holding each line's categories:
    the scenario's, then each defined category in force in the line's period (one level
    per category, so a rule reads the categories before it), which replaces one of the
    same name. None when no defined category is in force in any period."""
    current = frame
    levels = 0
    for category in _order(found.categories):
        whens = []
        for period in data.periods:
            version = next((v for c, v in found.versions(period.label) if c is category), None)
            if version is not None:
                whens.append(f"WHEN {period.index} THEN {value_sql(version)}")
        if not whens:
            continue
        name = _literal(str(category["name"]))
        value = f"CASE period {' '.join(whens)} ELSE NULL END"
        kept = (
            "map_from_entries(list_filter(map_entries(cost_categories), "
            f"lambda e: e.key <> {name}))"
        )
        added = (
            f"map_from_entries(list_filter([{{'key': {name}, 'value': {value}}}], "
            "lambda e: e.value IS NOT NULL))"
        )
        current = (
            f"(SELECT * REPLACE (map_concat({kept}, {added}) AS cost_categories) FROM {current})"
        )
        levels += 1
    return current if levels else None


def _with_categories(column: str) -> str:
    """A `tags` map column with its costCategory/ entries from the new categories."""
    plain = f"CAST({column} AS MAP(VARCHAR, VARCHAR))"
    return (
        f"map_concat(map_from_entries(list_filter(map_entries({plain}), "
        f"lambda e: NOT starts_with(e.key, '{_CATEGORY_PREFIX}'))), "
        "map_from_entries(list_transform(map_entries(cost_categories), "
        f"lambda e: {{'key': '{_CATEGORY_PREFIX}' || e.key, 'value': e.value}})))"
    )
