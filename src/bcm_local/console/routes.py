"""The console's routes table and dispatch.

Every handler takes a `View` (the runtime, the request's parameters and the account being
viewed; view.py) and returns a Response; handlers run in the worker pool, so a bill being
built never blocks the event loop. The console is read-only: GET and HEAD only.

Account selection: the default account 000000000000 unless the request carries
`account=<12 digits>` (the selector in the header sets it on purpose); links then keep it.
"""

from __future__ import annotations

import re
import time
from urllib.parse import unquote

from bcm_local.console import api, bill, costexplorer, pages, s3pages
from bcm_local.console.view import ROOT, Handler, View, json_response, not_found
from bcm_local.runtime import DEFAULT_ACCOUNT, Runtime
from bcm_local.wire.http import Request, Response

_ACCOUNT = re.compile(r"^\d{12}$")
_PAGES: list[tuple[str, Handler]] = [
    (r"/", pages.exports_page),
    (r"/exports/([0-9A-Za-z_-]+)", pages.export_page),
    (r"/cur", pages.cur_page),
    (r"/bill", bill.bill_page),
    (r"/ce", costexplorer.ce_page),
    (r"/s3", s3pages.buckets_page),
    (r"/s3/([^/]+)", s3pages.bucket_page),
]
_OTHERS: list[tuple[str, Handler]] = [
    (r"/download/([^/]+)/(.+)", s3pages.download),
    (r"/api/bill", bill.bill_json),
    (r"/api/ce", costexplorer.ce_json),
    (r"/api/summary", api.summary_json),
    (r"/static/([a-z0-9_-]+\.(?:js|css|svg))", api.static_file),
]
_ROUTES = [
    (re.compile(pattern + "$", re.S), handler, page)
    for table, page in ((_PAGES, True), (_OTHERS, False))
    for pattern, handler in table
]


def _find(path: str) -> tuple[Handler, tuple[str, ...], bool] | None:
    for pattern, handler, page in _ROUTES:
        found = pattern.match(path)
        if found:
            return handler, found.groups(), page
    return None


async def handle(runtime: Runtime, request: Request) -> Response:
    started = time.perf_counter()
    path = unquote(request.raw_path.removeprefix(ROOT)) or "/"
    found = _find(path)
    if found is None:
        return not_found()
    if request.method not in ("GET", "HEAD"):
        response = json_response(405, {"message": "The console is read-only (GET and HEAD)."})
        response.headers.append(("allow", "GET, HEAD"))
        return response
    params = dict(request.query)
    account = params.get("account", "")
    if account and not _ACCOUNT.match(account):
        return json_response(400, {"message": "account must be 12 digits"})
    handler, groups, page = found
    view = View(runtime, path, params, groups, account or DEFAULT_ACCOUNT, bool(account))
    response = await runtime.run_blocking(handler, view)
    if page:  # start building the bill, so the bill page usually opens on a built one
        bill.prefetch(runtime, view.account)
    elapsed = (time.perf_counter() - started) * 1000
    response.headers.append(("server-timing", f"app;dur={elapsed:.1f}"))
    response.operation = "Console"
    return response
