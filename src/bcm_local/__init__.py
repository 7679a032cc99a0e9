"""bcm-local: a local emulator of AWS Data Exports, legacy CUR and S3.

Sharded emission's public API (delivery/shards/, docs/sharded-emission.md) is here too:
`bcm_local.shards(...)` plans picklable shards, `bcm_local.run_shard(shard)` writes one,
`bcm_local.finish(shards, results)` writes the manifests."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["finish", "run_shard", "shards"]


def __getattr__(name: str) -> Any:
    if name in __all__:  # imported on first use: `import bcm_local` stays light
        from bcm_local.delivery import shards as api

        return getattr(api, name)
    raise AttributeError(f"module 'bcm_local' has no attribute {name!r}")
