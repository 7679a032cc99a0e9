"""All emulator state behind one object: a SQLite database (in memory or a file)."""

from bcm_local.store.sqlite import Record, Store

__all__ = ["Record", "Store"]
