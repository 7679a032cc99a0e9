"""A shard's part of the bill's lines (sharded emission, delivery/shards/): which lines
the model builds for a shard, or keeps of a bill built whole."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LineShard:
    """A part of one billing period's lines, for sharded emission (delivery/shards/):
    `by` "period" keeps all of them; "account" the lines of every `groups`-th of the
    period's usage accounts (sorted by id), from the `group`-th; "resource" every
    `groups`-th line by line number, from the `group`-th (a line is one resource's usage
    series: its rows, and its replicas' rows, stay in one shard). The build makes only
    these lines; the ENUM types and map keys still come from the whole bill."""

    period: int
    by: str = "period"
    group: int = 0
    groups: int = 1

    def condition(self, columns: dict[str, list[Any]], scale: int) -> str:
        """The shard's lines as SQL over `raw_lines` and the replica number `r.range`.
        A whole period keeps every line (it is focused later, as an unsharded delivery
        focuses it: the same plan, hence the same bytes); a group keeps its period's."""
        if self.groups == 1:
            return ""
        where = f"period = {int(self.period)}"
        if self.by == "account":
            pairs = zip(columns["account_id"], columns["period"], strict=True)
            where += " AND " + self._accounts({str(a) for a, p in pairs if p == self.period})
        elif self.by == "resource":
            where += f" AND (raw_no * {int(scale)} + r.range) % {self.groups} = {self.group}"
        return where

    def _accounts(self, found: set[str]) -> str:
        accounts = sorted(found)
        if len(accounts) < self.groups:
            raise ShardKeyError(
                f"{self.groups} account groups, but the billing period has "
                f"{len(accounts)} usage accounts"
            )
        mine = ", ".join(f"'{a}'" for a in accounts[self.group :: self.groups])
        return f"account_id IN ({mine})"

    def on_lines(self, con: Any) -> str:
        """The same lines as SQL over a bill built whole (`lines_all`)."""
        if self.groups == 1:
            return "TRUE"
        if self.by == "resource":
            return f"line_no % {self.groups} = {self.group}"
        found = con.execute(
            f"SELECT DISTINCT account_id::VARCHAR FROM lines_all WHERE period = {self.period}"
        ).fetchall()
        return self._accounts({str(a) for (a,) in found})


class ShardKeyError(ValueError):
    """A shard that does not fit the bill (more account groups than accounts)."""
