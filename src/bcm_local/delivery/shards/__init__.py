"""Sharded emission: one delivery split into shards that share no state.

A shard is one billing period of the bill, or one group of that period's lines (an
account group or a resource group, `LineShard`), and a pure function of the scenario,
seed, clock, settings and its key: `run_shard` builds only its lines, writes its numbered
parts into the AWS layout's BILLING_PERIOD folder and returns what it wrote. `finish`
writes each period's manifest last, from every shard's result, and refuses an incomplete
delivery. `shards` plans them; anything that runs picklable functions runs them:
`bcm-local emit --workers N` (local.py, processes on one machine), the server for a
large export, or an engine the user already has (docs/sharded-emission.md: Dask, Ray).

    import bcm_local
    tasks = bcm_local.shards(table="COST_AND_USAGE_REPORT", out="/tmp/bill",
                             by="resource", groups=8,
                             properties={"TIME_GRANULARITY": "HOURLY"})
    results = [bcm_local.run_shard(t) for t in tasks]   # or client.map(...)
    bcm_local.finish(tasks, results)
"""

from bcm_local.delivery.shards.finish import finish
from bcm_local.delivery.shards.plan import (
    KEYS,
    Shard,
    ShardError,
    ShardKey,
    ShardResult,
    shards,
    split,
)
from bcm_local.delivery.shards.task import run_shard

__all__ = [
    "KEYS",
    "Shard",
    "ShardError",
    "ShardKey",
    "ShardResult",
    "finish",
    "run_shard",
    "shards",
    "split",
]
