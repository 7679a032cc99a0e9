"""The console's routes table and dispatch.

Every handler takes a `View` (the runtime, the request's parameters and the account being
viewed) and returns a Response; handlers run in the worker pool, so a bill being built
never blocks the event loop. The console is read-only: GET and HEAD only.

Account selection: the default account 000000000000 unless the request carries
`account=<12 digits>` (the selector in the header sets it on purpose); links then keep it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode

from bcm_local.runtime import Runtime
from bcm_local.server.auth import DEFAULT_ACCOUNT
from bcm_local.server.http import Request, Response

ROOT = "/_bcm_local"
_ACCOUNT = re.compile(r"^\d{12}$")

# Never cached, never framed, nothing loaded from anywhere but this server.
SECURITY_HEADERS = [
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'",
    ),
]


@dataclass(frozen=True)
class View:
    runtime: Runtime
    path: str  # unquoted, below ROOT ("/exports/x")
    params: dict[str, str]
    match: tuple[str, ...]
    account: str
    explicit: bool  # the account was chosen with `account=`

    def param(self, name: str, default: str = "") -> str:
        return self.params.get(name, default)

    def href(self, path: str, **params: str) -> str:
        """A console link that keeps an explicitly selected account."""
        query = {k: v for k, v in params.items() if v}
        if self.explicit:
            query["account"] = self.account
        return ROOT + path + ("?" + urlencode(query) if query else "")


Handler = Callable[[View], Response]


def _routes() -> list[tuple[re.Pattern[str], Handler]]:
    from bcm_local.console import api, bill, pages, s3pages

    table: list[tuple[str, Handler]] = [
        (r"/", pages.exports_page),
        (r"/exports/([0-9A-Za-z_-]+)", pages.export_page),
        (r"/cur", pages.cur_page),
        (r"/bill", bill.bill_page),
        (r"/s3", s3pages.buckets_page),
        (r"/s3/([^/]+)", s3pages.bucket_page),
        (r"/download/([^/]+)/(.+)", s3pages.download),
        (r"/api/bill", bill.bill_json),
        (r"/api/summary", api.summary_json),
        (r"/static/([a-z0-9_-]+\.(?:js|css|svg))", api.static_file),
    ]
    return [(re.compile(pattern + "$", re.S), handler) for pattern, handler in table]


_ROUTES: list[tuple[re.Pattern[str], Handler]] = []


def _find(path: str) -> tuple[Handler, tuple[str, ...]] | None:
    if not _ROUTES:
        _ROUTES.extend(_routes())
    for pattern, handler in _ROUTES:
        found = pattern.match(path)
        if found:
            return handler, found.groups()
    return None


def json_response(status: int, body: Any) -> Response:
    import orjson

    data = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(status, [("content-type", "application/json"), *SECURITY_HEADERS], data)


def not_found(message: str = "Not Found") -> Response:
    return json_response(404, {"message": message})


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
    handler, groups = found
    view = View(runtime, path, params, groups, account or DEFAULT_ACCOUNT, bool(account))
    response = await runtime.run_blocking(handler, view)
    elapsed = (time.perf_counter() - started) * 1000
    response.headers.append(("server-timing", f"app;dur={elapsed:.1f}"))
    response.operation = "Console"
    return response
