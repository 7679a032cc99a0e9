"""The S3 store: buckets and object metadata in SQLite, object bytes in a BlobStore.

This module is also the in-process API other parts of the emulator use (delivery writes
export files through `put_object_from_file`; usage reads `bucket_stats`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from bcm_local.objects.blobs import BlobStore, BlobWriter, hash_file
from bcm_local.objects.names import check_key, valid_bucket_name
from bcm_local.runtime import Runtime

_SCHEMA = """
CREATE TABLE IF NOT EXISTS s3_buckets (
    name TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, created REAL NOT NULL,
    get_requests INTEGER NOT NULL DEFAULT 0, put_requests INTEGER NOT NULL DEFAULT 0,
    list_requests INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS s3_buckets_by_account ON s3_buckets(account, name);
CREATE TABLE IF NOT EXISTS s3_objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    content_type TEXT NOT NULL, modified REAL NOT NULL, blob TEXT NOT NULL,
    metadata TEXT NOT NULL, headers TEXT NOT NULL, checksums TEXT NOT NULL,
    checksum_type TEXT, parts INTEGER,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS s3_uploads (
    upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, account TEXT NOT NULL,
    initiated REAL NOT NULL, content_type TEXT NOT NULL, metadata TEXT NOT NULL,
    headers TEXT NOT NULL, algorithm TEXT, checksum_type TEXT
);
CREATE INDEX IF NOT EXISTS s3_uploads_by_bucket ON s3_uploads(bucket, key, initiated);
CREATE TABLE IF NOT EXISTS s3_parts (
    upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, checksums TEXT NOT NULL, modified REAL NOT NULL, blob TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
"""

DEFAULT_CONTENT_TYPE = "binary/octet-stream"
_OBJECT_COLUMNS = (
    "bucket, key, size, etag, content_type, modified, blob, metadata, headers, checksums, "
    "checksum_type, parts"
)
FLUSH_SECONDS = 2.0  # request counters reach SQLite at least this often under load
_COUNTERS = {"get": "get_requests", "put": "put_requests", "list": "list_requests"}


class NoSuchBucketError(Exception):
    pass


class AccessDeniedError(Exception):
    pass


@dataclass(frozen=True)
class BucketStats:
    name: str
    region: str
    created: float
    object_count: int
    total_bytes: int
    get_requests: int
    put_requests: int
    list_requests: int


@dataclass(frozen=True)
class Bucket:
    name: str
    account: str
    region: str
    created: float


@dataclass(frozen=True)
class ObjectMeta:
    bucket: str
    key: str
    size: int
    etag: str
    content_type: str = DEFAULT_CONTENT_TYPE
    modified: float = 0.0
    blob: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # CacheControl, ContentEncoding, ...
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm -> base64 value
    checksum_type: str | None = None
    parts: int | None = None


def _object(row: sqlite3.Row | tuple[Any, ...]) -> ObjectMeta:
    b, k, size, etag, ctype, modified, blob, meta, headers, sums, stype, parts = row
    return ObjectMeta(
        b, k, size, etag, ctype, modified, blob, _json(meta), _json(headers), _json(sums),
        stype, parts,
    )  # fmt: skip


def _json(text: str) -> dict[str, str]:
    return {} if text == "{}" else orjson.loads(text)


def next_prefix(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix`."""
    chars = list(prefix)
    while chars:
        point = ord(chars.pop()) + 1
        if point == 0xD800:
            point = 0xE000
        if point <= 0x10FFFF:
            return "".join(chars) + chr(point)
    return None


class S3Backend:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.blobs = BlobStore(runtime.root / "s3", durable=runtime.persistent)
        with self.store.transaction() as db:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            live = {r[0] for r in db.execute("SELECT blob FROM s3_objects")}
            live |= {r[0] for r in db.execute("SELECT blob FROM s3_parts")}
            self.blobs.collect(live)
        self.store.exclude_from_digest("s3_buckets", *_COUNTERS.values())
        self._buckets: dict[str, Bucket] = {}  # read-through cache of s3_buckets rows
        self._counts: Counter[tuple[str, str]] = Counter()  # requests not yet in SQLite
        self._counts_lock = threading.Lock()
        self._flushed = time.monotonic()
        runtime.on_close.append(self.flush_counters)

    # -- the in-process API -------------------------------------------------------------

    def scratch_dir(self) -> Path:
        return self.blobs.scratch

    def bucket_owner(self, bucket: str) -> str | None:
        found = self.bucket(bucket)
        return found.account if found else None

    def bucket_region(self, bucket: str) -> str | None:
        found = self.bucket(bucket)
        return found.region if found else None

    def create_bucket(self, account_id: str, bucket: str, region: str) -> None:
        """Create the bucket unless the account already owns it."""
        if not valid_bucket_name(bucket):
            raise ValueError(f"invalid bucket name: {bucket!r}")
        if self.insert_bucket(account_id, bucket, region) is None:
            self.owned(account_id, bucket)

    def put_object_from_file(
        self,
        account_id: str,
        bucket: str,
        key: str,
        src: Path,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> str:
        self.owned(account_id, bucket)
        check_key(key)
        md5 = hash_file(src)
        size = src.stat().st_size
        meta = ObjectMeta(bucket, key, size, f'"{md5}"', content_type)
        return self.commit(meta, src).etag

    def put_object_bytes(
        self,
        account_id: str,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> str:
        self.owned(account_id, bucket)
        check_key(key)
        with BlobWriter(self.blobs) as writer:
            writer.write(data)
        meta = ObjectMeta(bucket, key, len(data), f'"{writer.md5.hexdigest()}"', content_type)
        return self.commit(meta, writer.path).etag

    def delete_object(self, account_id: str, bucket: str, key: str) -> None:
        self.owned(account_id, bucket)
        self.remove_object(bucket, key)

    def list_keys(self, bucket: str, prefix: str = "") -> list[tuple[str, int]]:
        return [(o.key, o.size) for o in self.iter_objects(bucket, prefix)]

    def read_object(self, bucket: str, key: str) -> bytes | None:
        """The object's bytes (None when there is no such object)."""
        found = self.head(bucket, key)
        if found is None:
            return None
        with self.blobs.open(found.blob) as fh:
            return fh.read()

    def bucket_stats(self, account_id: str) -> list[BucketStats]:
        self.flush_counters()
        with self.store.read() as db:
            rows = db.execute(
                "SELECT b.name, b.region, b.created, count(o.key), coalesce(sum(o.size), 0), "
                "b.get_requests, b.put_requests, b.list_requests FROM s3_buckets b "
                "LEFT JOIN s3_objects o ON o.bucket = b.name WHERE b.account=? "
                "GROUP BY b.name ORDER BY b.name",
                (account_id,),
            ).fetchall()
        return [BucketStats(*row) for row in rows]

    # -- buckets -------------------------------------------------------------------------

    def bucket(self, name: str) -> Bucket | None:
        found = self._buckets.get(name)
        if found is not None:
            return found
        with self.store.read() as db:
            row = db.execute(
                "SELECT name, account, region, created FROM s3_buckets WHERE name=?", (name,)
            ).fetchone()
            found = Bucket(*row) if row else None
            # under the lock, so a concurrent drop_bucket cannot be undone by this write;
            # never cache a row a rollback may undo
            if found is not None and not db.in_transaction:
                self._buckets[name] = found
        return found

    def owned(self, account_id: str, name: str) -> Bucket:
        found = self.bucket(name)
        if found is None:
            raise NoSuchBucketError(name)
        if found.account != account_id:
            raise AccessDeniedError(name)
        return found

    def buckets_of(self, account_id: str) -> list[Bucket]:
        with self.store.read() as db:
            rows = db.execute(
                "SELECT name, account, region, created FROM s3_buckets WHERE account=? "
                "ORDER BY name",
                (account_id,),
            ).fetchall()
        return [Bucket(*row) for row in rows]

    def _now(self) -> float:
        """The emulator's clock, to the millisecond (S3 creation and LastModified times)."""
        return round(self.runtime.clock.time(), 3)

    def insert_bucket(self, account_id: str, name: str, region: str) -> Bucket | None:
        """The new bucket, or None when the name is taken (by anyone)."""
        bucket = Bucket(name, account_id, region, self._now())
        with self.store.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO s3_buckets(name, account, region, created) "
                "VALUES (?, ?, ?, ?)",
                (name, account_id, region, bucket.created),
            )
        return bucket if cur.rowcount == 1 else None

    def drop_bucket(self, name: str) -> bool:
        """Delete an empty bucket (and its unfinished uploads); False when not empty."""
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM s3_objects WHERE bucket=? LIMIT 1", (name,)).fetchone():
                return False
            uploads = [
                r[0] for r in db.execute("SELECT upload_id FROM s3_uploads WHERE bucket=?", (name,))
            ]
            blobs = self._drop_uploads(db, uploads)
            db.execute("DELETE FROM s3_buckets WHERE name=?", (name,))
            self._buckets.pop(name, None)
        with self._counts_lock:
            for kind in _COUNTERS.values():
                self._counts.pop((name, kind), None)
        self.blobs.remove(blobs)
        return True

    def count_request(self, bucket: str, kind: str, account_id: str | None = None) -> None:
        """Count a request to the bucket (only the owner's, when `account_id` is given).
        Counts gather in memory and reach SQLite at most FLUSH_SECONDS later, on stats
        reads and at close: a crash loses only those seconds of metering."""
        found = self.bucket(bucket)
        if found is not None and account_id in (None, found.account):
            with self._counts_lock:
                self._counts[bucket, _COUNTERS[kind]] += 1
            if time.monotonic() - self._flushed > FLUSH_SECONDS:
                self.flush_counters()

    def flush_counters(self) -> None:
        with self._counts_lock:
            counts, self._counts = self._counts, Counter()
            self._flushed = time.monotonic()
        if counts:
            with self.store.transaction() as db:
                for (bucket, column), n in counts.items():
                    db.execute(
                        f"UPDATE s3_buckets SET {column} = {column} + ? WHERE name=?", (n, bucket)
                    )

    # -- objects -------------------------------------------------------------------------

    def head(self, bucket: str, key: str) -> ObjectMeta | None:
        with self.store.read() as db:
            row = db.execute(
                f"SELECT {_OBJECT_COLUMNS} FROM s3_objects WHERE bucket=? AND key=?",
                (bucket, key),
            ).fetchone()
        return _object(row) if row else None

    def commit(self, meta: ObjectMeta, temp: Path) -> ObjectMeta:
        """Install `temp` as the object's bytes and commit its row (blocking: fsync)."""
        blob_id = self.blobs.install(temp)
        return self._upsert(replace(meta, blob=blob_id, modified=self._now()))

    def _upsert(self, meta: ObjectMeta) -> ObjectMeta:
        try:
            with self.store.transaction() as db:
                self.owned_by_anyone(db, meta.bucket)
                old = db.execute(
                    "SELECT blob FROM s3_objects WHERE bucket=? AND key=?", (meta.bucket, meta.key)
                ).fetchone()
                db.execute(
                    f"INSERT OR REPLACE INTO s3_objects({_OBJECT_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        meta.bucket, meta.key, meta.size, meta.etag, meta.content_type,
                        meta.modified, meta.blob, json.dumps(meta.metadata),
                        json.dumps(meta.headers), json.dumps(meta.checksums),
                        meta.checksum_type, meta.parts,
                    ),
                )  # fmt: skip
        except BaseException:
            self.blobs.remove([meta.blob])
            raise
        self.blobs.remove([old[0] if old else None])
        return meta

    @staticmethod
    def owned_by_anyone(db: sqlite3.Connection, bucket: str) -> None:
        if not db.execute("SELECT 1 FROM s3_buckets WHERE name=?", (bucket,)).fetchone():
            raise NoSuchBucketError(bucket)

    def copy(self, source: ObjectMeta, target: ObjectMeta) -> ObjectMeta:
        """Commit `target` with the bytes of `source` (blocking)."""
        blob_id = self.blobs.link_copy(source.blob)
        return self._upsert(replace(target, blob=blob_id, modified=self._now()))

    def remove_object(self, bucket: str, key: str) -> bool:
        with self.store.transaction() as db:
            row = db.execute(
                "DELETE FROM s3_objects WHERE bucket=? AND key=? RETURNING blob", (bucket, key)
            ).fetchone()
        self.blobs.remove([row[0] if row else None])
        return row is not None

    def scan(
        self, bucket: str, prefix: str, after: str, limit: int, lower: str = ""
    ) -> list[ObjectMeta]:
        """Up to `limit` objects whose keys start with `prefix`, are > `after` and >= `lower`."""
        upper = next_prefix(prefix) if prefix else None
        sql = f"SELECT {_OBJECT_COLUMNS} FROM s3_objects WHERE bucket=? AND key>? AND key>=?"
        args: list[Any] = [bucket, after, max(prefix, lower)]
        if upper is not None:
            sql += " AND key<?"
            args.append(upper)
        with self.store.read() as db:
            rows = db.execute(sql + " ORDER BY key LIMIT ?", (*args, limit)).fetchall()
        return [_object(row) for row in rows]

    def iter_objects(self, bucket: str, prefix: str = "", after: str = "") -> Iterator[ObjectMeta]:
        while True:
            page = self.scan(bucket, prefix, after, 1000)
            yield from page
            if len(page) < 1000:
                return
            after = page[-1].key

    # -- multipart uploads (rows only; the upload logic lives in multipart.py) ------------

    def _drop_uploads(self, db: sqlite3.Connection, upload_ids: list[str]) -> list[str]:
        blobs: list[str] = []
        for upload_id in upload_ids:
            blobs += [
                r[0]
                for r in db.execute(
                    "DELETE FROM s3_parts WHERE upload_id=? RETURNING blob", (upload_id,)
                )
            ]
            db.execute("DELETE FROM s3_uploads WHERE upload_id=?", (upload_id,))
        return blobs

    def drop_upload(self, upload_id: str) -> None:
        with self.store.transaction() as db:
            blobs = self._drop_uploads(db, [upload_id])
        self.blobs.remove(blobs)


_BACKENDS: weakref.WeakKeyDictionary[Runtime, S3Backend] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def s3_backend(runtime: Runtime) -> S3Backend:
    """The runtime's one S3 backend (created, and orphan blobs collected, on first use)."""
    with _LOCK:
        backend = _BACKENDS.get(runtime)
        if backend is None:
            backend = _BACKENDS[runtime] = S3Backend(runtime)
        return backend
