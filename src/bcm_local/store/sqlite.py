"""Namespaced, account-scoped records in SQLite.

Keys follow the seed's storage keys (`<accountId>::<exportArn>`,
`<accountId>::<exportArn>::<executionId>`); values are JSON documents. Every write is
one SQLite transaction, so a crash at any moment leaves either the old or the new
record, never a torn one. Services with relational needs (S3's object index) create
their own tables through `transaction()`.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    ns    TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (ns, key)
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_HIGH = "\U0010ffff"


@dataclass(frozen=True)
class Record:
    seq: int
    key: str
    value: dict[str, Any]


class Store:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        target = str(path) if path else ":memory:"
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        if path:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._metering: dict[str, set[str]] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a group of statements atomically (re-entrant within one thread)."""
        with self._lock:
            if self._db.in_transaction:
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (a full disk): never leave one open,
                # or the next `transaction()` would nest in it and never commit
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads only: each statement sees committed state, no
        BEGIN/COMMIT round trip (inside a transaction it sees that transaction's writes)."""
        with self._lock:
            yield self._db

    def get(self, ns: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM records WHERE ns=? AND key=?", (ns, key)
            ).fetchone()
        return orjson.loads(row[0]) if row else None

    def put(self, ns: str, key: str, value: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO records(ns, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT(ns, key) DO UPDATE SET value=excluded.value",
                (ns, key, orjson.dumps(value).decode()),
            )

    def insert(self, ns: str, key: str, value: dict[str, Any]) -> bool:
        """Add a record unless the key exists; False when it did."""
        with self.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO records(ns, key, value) VALUES (?, ?, ?)",
                (ns, key, orjson.dumps(value).decode()),
            )
            return cur.rowcount == 1

    def delete(self, ns: str, key: str) -> bool:
        with self.transaction() as db:
            return db.execute("DELETE FROM records WHERE ns=? AND key=?", (ns, key)).rowcount > 0

    def delete_prefix(self, ns: str, prefix: str) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "DELETE FROM records WHERE ns=? AND key>=? AND key<?", (ns, prefix, prefix + _HIGH)
            )
            return cur.rowcount

    def scan(self, ns: str, prefix: str = "", after_seq: int = 0, limit: int = -1) -> list[Record]:
        """Records whose key starts with `prefix`, in insertion order, after `after_seq`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, key, value FROM records WHERE ns=? AND key>=? AND key<? AND seq>? "
                "ORDER BY seq LIMIT ?",
                (ns, prefix, prefix + _HIGH, after_seq, limit),
            ).fetchall()
        return [Record(seq, key, orjson.loads(value)) for seq, key, value in rows]

    def count(self, ns: str, prefix: str = "") -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM records WHERE ns=? AND key>=? AND key<?",
                (ns, prefix, prefix + _HIGH),
            ).fetchone()
        return int(row[0])

    def exclude_from_digest(self, table: str, *columns: str) -> None:
        """Columns that meter requests rather than hold state (S3's request counters): a
        rejected request may still be counted, as AWS bills it, without changing state."""
        self._metering.setdefault(table, set()).update(columns)

    def digest(self) -> dict[str, Any]:
        """Row counts and a content hash of every table (to prove a request changed nothing)."""
        found: dict[str, Any] = {}
        whole = hashlib.sha256()
        with self._lock:
            tables = [
                r[0]
                for r in self._db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' "
                    "AND name NOT LIKE 'sqlite_%' AND name != 'meta' ORDER BY name"
                )
            ]
            for table in tables:
                skip = self._metering.get(table, set())
                info = self._db.execute(f'PRAGMA table_info("{table}")').fetchall()
                kept = [r[1] for r in info if r[1] not in skip]
                columns = ", ".join(f'"{c}"' for c in kept)
                order = ", ".join(str(i + 1) for i in range(len(kept)))
                query = f'SELECT {columns} FROM "{table}" ORDER BY {order}'
                rows = self._db.execute(query).fetchall()
                found[table] = len(rows)
                whole.update(table.encode() + repr(rows).encode())
        return {"tables": found, "sha256": whole.hexdigest()}

    def meta(self, name: str, default: str) -> str:
        """A process-wide value, created once and then stable across restarts."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO meta(name, value) VALUES (?, ?)", (name, default))
            row = db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return str(row[0])
