"""The built-in S3 as pages: the account's buckets, a bucket's objects browsed by folder
(`prefix`, `/` as delimiter, 500 entries a page) and downloads. Only buckets the viewed
account owns are shown."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bcm_local.console.html import esc, link, missing, page, table, when
from bcm_local.console.pages import download_href
from bcm_local.console.view import SECURITY_HEADERS, View, not_found
from bcm_local.units import size
from bcm_local.wire.http import Response

PAGE = 500
_LAST = "\U0010ffff"  # sorts after every character a key can hold


def _backend(view: View) -> Any:
    from bcm_local.objects.backend import s3_backend

    return s3_backend(view.runtime)


def buckets_page(view: View) -> Response:
    if not view.runtime.config.s3_enabled:
        return page(view, "/s3", "S3", '<p class="empty">The built-in S3 is disabled.</p>')
    rows = [
        (
            link(view.href(f"/s3/{quote(s.name)}"), s.name, cls="bucket"),
            esc(s.region),
            esc(when(s.created)),
            esc(s.object_count),
            esc(size(s.total_bytes)),
            esc(f"{s.get_requests} / {s.put_requests} / {s.list_requests}"),
        )
        for s in _backend(view).bucket_stats(view.account)
    ]
    headers = ("Bucket", "Region", "Created", "Objects", "Size", "GET / PUT / LIST")
    body = table(headers, rows, f"Account {view.account} has no buckets.", "buckets")
    return page(view, "/s3", f"S3 buckets of {view.account}", body)


def _crumbs(view: View, bucket: str, prefix: str) -> str:
    parts = [link(view.href("/s3"), "buckets"), link(view.href(f"/s3/{quote(bucket)}"), bucket)]
    walked = ""
    for folder in prefix.split("/")[:-1]:
        walked += folder + "/"
        parts.append(link(view.href(f"/s3/{quote(bucket)}", prefix=walked), folder or "(empty)"))
    return '<p class="crumbs">' + " / ".join(parts) + "</p>"


def _listing(
    backend: Any, bucket: str, prefix: str, after: str
) -> tuple[list[str], list[Any], str]:
    """One page of a folder: its sub-folders, its objects and the key to continue after.
    A sub-folder's keys are skipped in one step (`after` jumps past them)."""
    folders: list[str] = []
    objects: list[Any] = []
    while len(folders) + len(objects) < PAGE:
        batch = backend.scan(bucket, prefix, after, PAGE)
        for meta in batch:
            rest = meta.key[len(prefix) :]
            if "/" in rest:
                folders.append(prefix + rest.split("/", 1)[0] + "/")
                after = folders[-1] + _LAST
                break
            objects.append(meta)
            after = meta.key
            if len(folders) + len(objects) >= PAGE:
                break
        else:
            if len(batch) < PAGE:
                break
    return folders, objects, after


def bucket_page(view: View) -> Response:
    (bucket,) = view.match
    backend = _backend(view) if view.runtime.config.s3_enabled else None
    found = backend.bucket(bucket) if backend else None
    if backend is None or found is None or found.account != view.account:
        return missing(view, "/s3", f"Account {view.account} has no bucket named {bucket}.")
    prefix = view.param("prefix")
    folders, objects, after = _listing(backend, bucket, prefix, view.param("after"))
    more = len(folders) + len(objects) >= PAGE
    rows = [
        (link(view.href(f"/s3/{quote(bucket)}", prefix=f), f[len(prefix) :], cls="folder"), "", "")
        for f in folders
    ]
    rows += [
        (
            link(download_href(view, bucket, o.key), o.key[len(prefix) :] or o.key, cls="file"),
            esc(size(o.size)),
            esc(when(o.modified)),
        )
        for o in objects
    ]
    body = _crumbs(view, bucket, prefix) + table(
        ("Key", "Size", "Modified"), rows, "No objects here.", "objects"
    )
    if more:
        href = view.href(f"/s3/{quote(bucket)}", prefix=prefix, after=after)
        body += f'<p class="more">{link(href, "next page →")}</p>'
    return page(view, "/s3", f"s3://{bucket}/{prefix}", body)


def download(view: View) -> Response:
    bucket, key = view.match
    backend = _backend(view) if view.runtime.config.s3_enabled else None
    if backend is None or backend.bucket_owner(bucket) != view.account:
        return not_found(f"Account {view.account} has no bucket named {bucket}.")
    meta = backend.head(bucket, key)
    if meta is None:
        return not_found(f"No object {key} in {bucket}.")
    filename = quote(key.rsplit("/", 1)[-1] or "object")
    headers = [
        ("content-type", meta.content_type),
        ("content-disposition", f"attachment; filename*=UTF-8''{filename}"),
        ("etag", meta.etag),
        *SECURITY_HEADERS,
    ]
    body = backend.blobs.body(meta.blob, 0, meta.size)
    if isinstance(body, bytes):
        return Response(200, headers, body)
    return Response(200, headers, file=body)
