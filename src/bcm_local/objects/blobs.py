"""Object bytes on disk: immutable files named by an opaque id, never by a key.

A body is written straight to `blobs/<id[:2]>/<id>` under a fresh id (files from
elsewhere go through `tmp/` and a rename), fsynced, and only then is the metadata row
naming it committed: until that commit no reader knows the id, so a crash leaves at
worst an orphan file, which `collect()` removes at start-up. Without a data directory nothing
outlives the process, so the fsyncs are skipped (`durable=False`) and bodies up to
MEMORY_BLOB_BYTES stay in memory (as moto and LocalStack keep small objects): creating,
writing and unlinking a file per PutObject cost more than the rest of the request.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from bcm_local.objects.checksums import HASHERS, Hasher
from bcm_local.wire.http import FileBody

_ID = re.compile(r"^[0-9a-f]{32}$")
COPY_CHUNK = 1 << 20
MEMORY_BLOB_BYTES = 1 << 20  # without a data directory, bodies up to this stay in memory


class BlobStore:
    def __init__(self, root: Path, durable: bool = True) -> None:
        self.root = root
        self.durable = durable
        self.blobs = root / "blobs"
        self.tmp = root / "tmp"
        self.scratch = self.tmp / "scratch"
        for folder in (self.blobs, self.tmp, self.scratch):
            folder.mkdir(parents=True, exist_ok=True)
        self._shards: set[str] = set()
        self.memory: dict[str, bytes] | None = None if durable else {}

    def new_blob(self, make_folder: bool = True) -> tuple[str, Path]:
        """A fresh id and the path its bytes go to (its folder created)."""
        blob_id = uuid.uuid4().hex
        path = self.blobs / blob_id[:2] / blob_id
        if make_folder:
            self.make_folder(path)
        return blob_id, path

    def make_folder(self, path: Path) -> None:
        if path.parent.name not in self._shards:
            path.parent.mkdir(exist_ok=True)
            self._shards.add(path.parent.name)

    def in_memory(self, blob_id: str) -> bytes | None:
        return self.memory.get(blob_id) if self.memory is not None else None

    def open(self, blob_id: str) -> BinaryIO:
        """The blob's bytes for reading (FileNotFoundError when it is gone)."""
        data = self.in_memory(blob_id)
        return io.BytesIO(data) if data is not None else self.path(blob_id).open("rb")

    def body(self, blob_id: str, first: int, length: int) -> bytes | FileBody:
        """A response body of `length` bytes from `first`, taken now: the bytes stay
        readable if the object is overwritten before they are sent."""
        data = self.in_memory(blob_id)
        if data is not None:
            return data[first : first + length]
        path = self.path(blob_id)
        return FileBody(path, first, length, path.open("rb"))

    def path(self, blob_id: str) -> Path:
        if not _ID.match(blob_id):
            raise ValueError(f"not a blob id: {blob_id!r}")
        return self.blobs / blob_id[:2] / blob_id

    def temp_path(self) -> Path:
        return self.tmp / f"{uuid.uuid4().hex}.tmp"

    def install(self, src: Path) -> str:
        """fsync `src` and move it into the store under a new id (unless it is a
        `new_blob` path already); returns the id."""
        if src.parent.parent == self.blobs and _ID.match(src.name):  # a BlobWriter's
            self._sync(src)
            if self.durable:
                _fsync_dir(src.parent)
            return src.name
        blob_id, target = self.new_blob()
        self._sync(src)
        try:
            os.replace(src, target)
        except OSError:  # another filesystem: copy next to the store first
            temp = self.temp_path()
            shutil.copyfile(src, temp)
            self._sync(temp)
            os.replace(temp, target)
            src.unlink()
        if self.durable:
            _fsync_dir(target.parent)
        return blob_id

    def _sync(self, path: Path) -> None:
        if self.durable:
            with path.open("rb") as fh:
                os.fsync(fh.fileno())

    def link_copy(self, blob_id: str) -> str:
        """A new blob with the same bytes (a hard link: blobs are never modified)."""
        data = self.in_memory(blob_id)
        if data is not None and self.memory is not None:
            copy_id = self.new_blob(make_folder=False)[0]
            self.memory[copy_id] = data
            return copy_id
        temp = self.temp_path()
        try:
            os.link(self.path(blob_id), temp)
        except OSError:
            shutil.copyfile(self.path(blob_id), temp)
        return self.install(temp)

    def remove(self, blob_ids: Iterable[str | None]) -> None:
        for blob_id in blob_ids:
            if blob_id and (self.memory is None or self.memory.pop(blob_id, None) is None):
                with contextlib.suppress(OSError):
                    self.path(blob_id).unlink()

    def collect(self, live: set[str]) -> int:
        """Delete temporary files and blobs no metadata row names; returns the count."""
        removed = 0
        for temp in self.tmp.rglob("*"):
            if temp.is_file():
                temp.unlink(missing_ok=True)
                removed += 1
        for shard in self.blobs.iterdir():
            for blob in shard.iterdir() if shard.is_dir() else ():
                if blob.name not in live:
                    blob.unlink(missing_ok=True)
                    removed += 1
        return removed


class BlobWriter:
    """Writes a body to a new blob while hashing it (MD5 plus asked-for checksums); in a
    store with a memory tier the bytes are buffered until they outgrow it."""

    def __init__(self, store: BlobStore, algorithms: Iterable[str] = ()) -> None:
        self.store = store
        self.blob_id, self.path = store.new_blob(make_folder=store.memory is None)
        self.size = 0
        self.md5 = hashlib.md5()
        self.hashers: dict[str, Hasher] = {a: HASHERS[a]() for a in algorithms}
        self._buffer: bytearray | None = bytearray() if store.memory is not None else None
        self._fh: BinaryIO | None = None if self._buffer is not None else self.path.open("wb")
        self._open = True

    def write(self, data: bytes) -> None:
        assert self._open
        if self._buffer is not None and len(self._buffer) + len(data) <= MEMORY_BLOB_BYTES:
            self._buffer += data
        else:
            self._spill().write(data)
        self.size += len(data)
        self.md5.update(data)
        for hasher in self.hashers.values():
            hasher.update(data)

    def _spill(self) -> BinaryIO:
        if self._fh is None:
            self.store.make_folder(self.path)
            self._fh = self.path.open("wb")
            self._fh.write(self._buffer or b"")
            self._buffer = None
        return self._fh

    def close(self) -> Path:
        """Finish the blob; its `path` (or id) is what `BlobStore.install` takes."""
        if self._open:
            self._open = False
            if self._fh is not None:
                self._fh.close()
            elif self._buffer is not None and self.store.memory is not None:
                self.store.memory[self.blob_id] = bytes(self._buffer)
                self._buffer = None
        return self.path

    def discard(self) -> None:
        self.close()
        self.store.remove([self.blob_id])

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.discard()
        else:
            self.close()


def hash_file(path: Path, writer: BlobWriter | None = None) -> str:
    """MD5 hex of a file (feeding `writer` the bytes as it goes, when given)."""
    md5 = hashlib.md5()
    with path.open("rb") as fh:
        while chunk := fh.read(COPY_CHUNK):
            md5.update(chunk)
            if writer is not None:
                writer.write(chunk)
    return md5.hexdigest()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
