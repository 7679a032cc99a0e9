"""What every console page works with: the `View` (the runtime, the request's parameters
and the account being viewed), the console's response helpers and security headers, and
the accounts it can show."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bcm_local.runtime import Runtime
from bcm_local.wire.http import Response

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


def json_response(status: int, body: Any) -> Response:
    import orjson

    data = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(status, [("content-type", "application/json"), *SECURITY_HEADERS], data)


def not_found(message: str = "Not Found") -> Response:
    return json_response(404, {"message": message})


def known_accounts(runtime: Runtime) -> list[str]:
    """Ids of the accounts that hold exports, legacy reports or buckets (ids only)."""
    with runtime.store.transaction() as db:
        rows = db.execute(
            "SELECT DISTINCT substr(key, 1, 12) FROM records WHERE ns IN (?, ?)",
            ("exports", "cur-report"),
        ).fetchall()
        found = {r[0] for r in rows}
        if db.execute("SELECT 1 FROM sqlite_master WHERE name='s3_buckets'").fetchone():
            found |= {r[0] for r in db.execute("SELECT DISTINCT account FROM s3_buckets")}
    return sorted(found)
