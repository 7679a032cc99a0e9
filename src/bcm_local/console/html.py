"""HTML for the console's pages: one layout, tables, badges and value formatting.
Everything interpolated goes through `esc`; pages are plain HTML (the bill page adds a
script that draws its charts)."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from bcm_local import __version__
from bcm_local.console.view import ROOT, SECURITY_HEADERS, View, known_accounts
from bcm_local.wire.http import Response

NAV = (
    ("/", "Exports"),
    ("/bill", "Bill"),
    ("/ce", "Cost Explorer"),
    ("/s3", "S3"),
    ("/cur", "Legacy CUR"),
)
GOOD = {"HEALTHY", "DELIVERY_SUCCESS", "SUCCESS"}
BAD = {"UNHEALTHY", "QUERY_FAILURE", "DELIVERY_FAILURE", "ERROR_PERMISSIONS", "ERROR_NO_BUCKET"}


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def when(epoch: Any) -> str:
    if epoch is None or epoch == "":
        return "—"
    return datetime.fromtimestamp(float(epoch), UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def badge(code: str | None, reason: str | None = None) -> str:
    if not code:
        return '<span class="badge">—</span>'
    kind = "good" if code in GOOD else "bad" if code in BAD else "busy"
    text = f'<span class="badge {kind}" data-status="{esc(code)}">{esc(code)}</span>'
    if reason:
        text += f' <span class="reason" data-reason="{esc(reason)}">{esc(reason)}</span>'
    return text


def link(href: str, text: Any, cls: str = "") -> str:
    extra = f' class="{esc(cls)}"' if cls else ""
    return f'<a href="{esc(href)}"{extra}>{esc(text)}</a>'


def pre(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True)
    return f"<pre>{esc(text)}</pre>"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str, table_id: str = ""
) -> str:
    """Cells are HTML already (escape with `esc` when building them)."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="empty">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    ident = f' id="{esc(table_id)}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    """A definition list; values are HTML already."""
    items = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in pairs)
    return f'<dl class="facts">{items}</dl>'


def _header(view: View, section: str) -> str:
    nav = "".join(
        f'<a href="{esc(view.href(path))}"{" class=current" if path == section else ""}>'
        f"{esc(label)}</a>"
        for path, label in NAV
    )
    options = "".join(f'<option value="{esc(a)}">' for a in known_accounts(view.runtime))
    note = (
        f'<span class="selected" title="chosen with the account selector">'
        f"viewing account {esc(view.account)}</span>"
        if view.explicit
        else ""
    )
    clock = view.runtime.clock
    pinned = (
        f'<span class="clock" title="BCM_LOCAL_NOW: the emulator\'s clock started here" '
        f'data-pinned="{esc(clock.pinned.strftime("%Y-%m-%dT%H:%M:%SZ"))}">'
        f"clock {esc(clock.now().strftime('%Y-%m-%d %H:%M'))}Z (pinned)</span>"
        if clock.pinned
        else ""
    )
    return (
        f'<header><a class="brand" href="{esc(view.href("/"))}">bcm-local</a><nav>{nav}</nav>'
        f"{pinned}"
        f'<form class="account" method="get" action="{esc(ROOT + view.path)}">'
        f'<label>Account <input name="account" id="account" value="{esc(view.account)}" '
        f'pattern="[0-9]{{12}}" maxlength="12" list="accounts" required></label>'
        f'<datalist id="accounts">{options}</datalist><button>View</button>{note}</form></header>'
    )


def page(
    view: View, section: str, title: str, body: str, scripts: Sequence[str] = (), status: int = 200
) -> Response:
    tags = "".join(f'<script src="{ROOT}/static/{name}" defer></script>' for name in scripts)
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)} · bcm-local</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="{ROOT}/static/favicon.svg">'
        f'<link rel="stylesheet" href="{ROOT}/static/console.css">{tags}</head>'
        f'<body data-account="{esc(view.account)}">{_header(view, section)}'
        f"<main><h1>{esc(title)}</h1>{body}</main>"
        f"<footer>bcm-local {esc(__version__)} · read-only console · account "
        f"{esc(view.account)}</footer></body></html>"
    )
    headers = [("content-type", "text/html; charset=utf-8"), *SECURITY_HEADERS]
    return Response(status, headers, document.encode())


def missing(view: View, section: str, message: str) -> Response:
    return page(view, section, "Not found", f'<p class="empty">{esc(message)}</p>', status=404)
