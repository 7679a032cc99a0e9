"""Object bytes on disk: immutable files named by an opaque id, never by a key.

A blob is written to `tmp/` first, fsynced, then renamed into `blobs/<id[:2]>/<id>`;
the metadata row naming it is committed only after that, so a crash leaves at worst an
orphan file, which `collect()` removes at start-up. Without a data directory nothing
outlives the process, so the fsyncs are skipped (`durable=False`): the rename alone
still keeps readers from ever seeing half an object.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from bcm_local.services.s3.checksums import HASHERS, Hasher

_ID = re.compile(r"^[0-9a-f]{32}$")
COPY_CHUNK = 1 << 20


class BlobStore:
    def __init__(self, root: Path, durable: bool = True) -> None:
        self.root = root
        self.durable = durable
        self.blobs = root / "blobs"
        self.tmp = root / "tmp"
        self.scratch = self.tmp / "scratch"
        for folder in (self.blobs, self.tmp, self.scratch):
            folder.mkdir(parents=True, exist_ok=True)

    def path(self, blob_id: str) -> Path:
        if not _ID.match(blob_id):
            raise ValueError(f"not a blob id: {blob_id!r}")
        return self.blobs / blob_id[:2] / blob_id

    def temp_path(self) -> Path:
        return self.tmp / f"{uuid.uuid4().hex}.tmp"

    def install(self, src: Path) -> str:
        """fsync `src` and move it into the store under a new id; returns the id."""
        blob_id = uuid.uuid4().hex
        target = self.path(blob_id)
        target.parent.mkdir(exist_ok=True)
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
        temp = self.temp_path()
        try:
            os.link(self.path(blob_id), temp)
        except OSError:
            shutil.copyfile(self.path(blob_id), temp)
        return self.install(temp)

    def remove(self, blob_ids: Iterable[str | None]) -> None:
        for blob_id in blob_ids:
            if blob_id:
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
    """Writes a body to a temporary file while hashing it (MD5 plus asked-for checksums)."""

    def __init__(self, store: BlobStore, algorithms: Iterable[str] = ()) -> None:
        self.path = store.temp_path()
        self.size = 0
        self.md5 = hashlib.md5()
        self.hashers: dict[str, Hasher] = {a: HASHERS[a]() for a in algorithms}
        self._fh: BinaryIO | None = self.path.open("wb")

    def write(self, data: bytes) -> None:
        assert self._fh is not None
        self._fh.write(data)
        self.size += len(data)
        self.md5.update(data)
        for hasher in self.hashers.values():
            hasher.update(data)

    def close(self) -> Path:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        return self.path

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

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
