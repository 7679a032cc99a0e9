"""What a Data Exports table is made of: columns (name, AWS type, the property that adds
them, description), table properties (valid values, default, free-form checks) and the
table itself; shared by every table module and by the registry ListTables/GetTable read."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field


class TableError(Exception):
    """Unknown table, unknown table property or invalid property value."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    condition: str
    description: str

    def present(self, props: dict[str, str]) -> bool:
        if not self.condition:
            return True
        if self.condition.startswith("!"):
            return props.get(self.condition[1:]) != "TRUE"
        return props.get(self.condition) == "TRUE"


@dataclass(frozen=True)
class Property:
    name: str
    valid_values: tuple[str, ...]
    default: str
    description: str
    check: Callable[[str], str | None] | None = None  # free-form values: error text or None

    def normalize(self, table: str, value: str) -> str:
        if self.valid_values:
            for valid in self.valid_values:
                if value.upper() == valid:
                    return valid
            raise TableError(
                f"Invalid value {value!r} for table property {self.name} of table {table}. "
                f"Valid values: {', '.join(self.valid_values)}."
            )
        problem = self.check(value) if self.check else None
        if problem:
            raise TableError(
                f"Invalid value for table property {self.name} of table {table}: {problem}"
            )
        return value


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    properties: tuple[Property, ...] = field(default_factory=tuple)

    def resolve(self, properties: dict[str, str] | None = None) -> dict[str, str]:
        """Every property with its effective value; raises TableError."""
        known = {p.name: p for p in self.properties}
        given = dict(properties or {})
        for key in given:
            if key not in known:
                valid = ", ".join(known) or "none"
                raise TableError(
                    f"Invalid table property {key} for table {self.name}. "
                    f"Valid properties: {valid}."
                )
        return {
            p.name: p.normalize(self.name, given[p.name]) if p.name in given else p.default
            for p in self.properties
        }

    def columns_for(self, properties: dict[str, str] | None = None) -> list[Column]:
        """The columns the table has under these properties (in table order)."""
        props = self.resolve(properties)
        return [c for c in self.columns if c.present(props)]


BOOL = ("TRUE", "FALSE")


def granularity(default: str) -> Property:
    return Property(
        "TIME_GRANULARITY",
        ("HOURLY", "DAILY", "MONTHLY"),
        default,
        "Time span each cost and usage line item covers: one hour, one day or the month.",
    )


_VIEW_ARN = re.compile(r"arn:aws[a-z-]*:billing::[0-9]{12}:billingview/[-a-zA-Z0-9/:_+=.@]{1,43}")


def _check_view_arn(value: str) -> str | None:
    if value == "" or _VIEW_ARN.fullmatch(value):
        return None
    return "expected arn:aws:billing::<account-id>:billingview/<view-name>."


def billing_view() -> Property:
    """BILLING_VIEW_ARN: the billing view whose slice of the bill the table holds."""
    return Property(
        "BILLING_VIEW_ARN",
        (),
        "",
        "Billing view the data comes from; empty means the caller's primary view "
        "(arn:aws:billing::<account-id>:billingview/primary).",
        _check_view_arn,
    )


def flag(name: str, description: str) -> Property:
    return Property(name, BOOL, "FALSE", description)


def columns_of(rows: tuple[tuple[str, str, str, str], ...]) -> tuple[Column, ...]:
    return tuple(Column(*row) for row in rows)
