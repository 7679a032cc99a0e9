"""Pages over the management plane: an account's exports, one export with its executions
and delivered files, and legacy CUR report definitions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bcm_local.billing import definitions
from bcm_local.billing.scenario.definition import ScenarioError
from bcm_local.billing.scenario.files import scenario_of
from bcm_local.console.html import badge, esc, facts, link, missing, page, pre, table, when
from bcm_local.console.view import View
from bcm_local.services import billing_views
from bcm_local.services.dataexports.exports import EXECUTIONS, EXPORTS, NAMES
from bcm_local.units import size
from bcm_local.wire.errors import AwsError
from bcm_local.wire.http import Response


def _owned_bucket(view: View, bucket: str) -> bool:
    if not view.runtime.config.s3_enabled:
        return False
    from bcm_local.objects.backend import s3_backend

    return s3_backend(view.runtime).bucket_owner(bucket) == view.account


def _destination(view: View, bucket: str, prefix: str, folder: str) -> str:
    """s3://bucket/prefix, linked to the files' folder when the viewed account owns it."""
    uri = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
    if not _owned_bucket(view, bucket):
        return f"<code>{esc(uri)}</code>"
    return link(view.href(f"/s3/{quote(bucket)}", prefix=folder), uri, cls="mono")


def _folder(export: dict[str, Any]) -> str:
    from bcm_local.delivery.layouts.floci import base

    prefix = export["DestinationConfigurations"]["S3Destination"].get("S3Prefix") or ""
    return base(prefix, export["Name"]) + "/"


def download_href(view: View, bucket: str, key: str) -> str:
    return view.href(f"/download/{quote(bucket)}/{quote(key)}")


def exports_page(view: View) -> Response:
    store = view.runtime.store
    rows = []
    for record in store.scan(EXPORTS, f"{view.account}::"):
        export, status = record.value["Export"], record.value["Status"]
        dest = export["DestinationConfigurations"]["S3Destination"]
        output = dest["S3OutputConfigurations"]
        runs = store.count(EXECUTIONS, f"{record.key}::")
        rows.append(
            (
                link(view.href(f"/exports/{export['Name']}"), export["Name"], cls="export"),
                esc(record.value["Table"]),
                _destination(view, dest["S3Bucket"], dest.get("S3Prefix") or "", _folder(export)),
                esc(f"{output['Format']} · {output['Overwrite']}"),
                badge(status.get("StatusCode"), status.get("StatusReason")),
                esc(when(status.get("LastRefreshedAt"))),
                esc(runs),
            )
        )
    body = table(
        ("Name", "Table", "Destination", "Format", "Status", "Last refresh", "Executions"),
        rows,
        f"Account {view.account} has no exports.",
        "exports",
    )
    return page(view, "/", f"Data Exports of {view.account}", body)


def _find_export(view: View, name: str) -> dict[str, Any] | None:
    store = view.runtime.store
    ref = store.get(NAMES, f"{view.account}::{name}")
    if ref is None:
        return None
    return store.get(EXPORTS, f"{view.account}::{ref['ExportArn']}")


def _files(view: View, export: dict[str, Any]) -> list[tuple[str, int, float]]:
    """The export's delivered objects (key, size, modified) in its own folder."""
    dest = export["DestinationConfigurations"]["S3Destination"]
    if not _owned_bucket(view, dest["S3Bucket"]):
        return []
    from bcm_local.objects.backend import s3_backend

    objects = s3_backend(view.runtime).iter_objects(dest["S3Bucket"], _folder(export))
    return [(o.key, o.size, o.modified) for o in objects]


def export_page(view: View) -> Response:
    (name,) = view.match
    record = _find_export(view, name)
    if record is None:
        return missing(view, "/", f"Account {view.account} has no export named {name}.")
    export, status = record["Export"], record["Status"]
    dest = export["DestinationConfigurations"]["S3Destination"]
    bucket = dest["S3Bucket"]
    output = dest["S3OutputConfigurations"]
    summary = facts(
        [
            ("ARN", f"<code>{esc(export['ExportArn'])}</code>"),
            ("Description", esc(export.get("Description") or "—")),
            ("Table", esc(record["Table"])),
            ("Status", badge(status.get("StatusCode"), status.get("StatusReason"))),
            ("Created", esc(when(status.get("CreatedAt")))),
            ("Last updated", esc(when(status.get("LastUpdatedAt")))),
            ("Last refresh", esc(when(status.get("LastRefreshedAt")))),
            (
                "Destination",
                _destination(view, bucket, dest.get("S3Prefix") or "", _folder(export)),
            ),
            ("Region", esc(dest["S3Region"])),
            ("Output", esc(" · ".join(str(v) for v in output.values()))),
            ("Refresh cadence", esc(export["RefreshCadence"]["Frequency"])),
            ("Billing view", _billing_view(view, export)),
            ("Cost categories", esc(", ".join(_categories(view)) or "none")),
        ]
    )
    query = export["DataQuery"]
    files = _files(view, export)
    body = (
        summary
        + f'<h2>SQL</h2><div id="sql">{pre(query["QueryStatement"])}</div>'
        + '<h2>Table configurations</h2><div id="table-config">'
        + f"{pre(query.get('TableConfigurations') or {})}</div>"
        + "<h2>Executions</h2>"
        + _executions(view, record, files)
        + "<h2>Delivered files</h2>"
        + _external_note(view)
        + _file_table(view, bucket, files)
    )
    return page(view, "/", f"Export {name}", body)


def _billing_view(view: View, export: dict[str, Any]) -> str:
    """The view the export reads (BILLING_VIEW_ARN of a table), by name."""
    configured = (export["DataQuery"].get("TableConfigurations") or {}).values()
    arn = next((p["BILLING_VIEW_ARN"] for p in configured if p.get("BILLING_VIEW_ARN")), None)
    if not arn:
        return esc(f"{billing_views.PRIMARY_NAME} (the whole bill)")
    try:
        name = billing_views.find(view.runtime.store, view.account, arn)["name"]
    except AwsError as err:
        return f"<code>{esc(arn)}</code> ({esc(err.code)})"
    return f"{esc(name)} <code>{esc(arn)}</code>"


def _categories(view: View) -> list[str]:
    """The cost categories a delivery now applies: the scenario's and the account's own
    definitions in force this month."""
    found = definitions.of(view.runtime.store, view.account)
    month = f"{view.runtime.clock.now():%Y-%m}"
    defined = [c["name"] for c, _ in found.versions(month)]
    try:
        scenario = scenario_of(str(view.runtime.config.billing_scenario)).cost_categories
    except (OSError, ScenarioError):  # reported where the bill is built
        scenario = {}
    named = {name for values in scenario.values() for name in values}
    return sorted(named | set(defined))


def _executions(view: View, record: dict[str, Any], files: list[tuple[str, int, float]]) -> str:
    prefix = f"{view.account}::{record['Export']['ExportArn']}::"
    runs = [r.value for r in view.runtime.store.scan(EXECUTIONS, prefix)]
    runs.sort(key=lambda r: r["ExecutionStatus"]["CreatedAt"], reverse=True)
    bucket = record["Export"]["DestinationConfigurations"]["S3Destination"]["S3Bucket"]
    rows = []
    for run in runs:
        status, run_id = run["ExecutionStatus"], run["ExecutionId"]
        own = [key for key, _, _ in files if run_id in key]
        rows.append(
            (
                f'<code class="execution">{esc(run_id)}</code>',
                badge(status["StatusCode"], status.get("StatusReason")),
                esc(when(status.get("CreatedAt"))),
                esc(when(status.get("CompletedAt"))),
                " ".join(
                    link(download_href(view, bucket, k), k.rsplit("/", 1)[-1], cls="file")
                    for k in own
                )
                or "—",
            )
        )
    headers = ("Execution", "Status", "Created", "Completed", "Files")
    return table(headers, rows, "No executions yet.", "executions")


def _external_note(view: View) -> str:
    external = getattr(view.runtime.config, "delivery_s3_endpoint", "")
    if not external:
        return ""
    return (
        f'<p class="empty">Deliveries go to the external endpoint <code>{esc(external)}</code>; '
        "the console lists the built-in S3 only.</p>"
    )


def _file_table(view: View, bucket: str, files: list[tuple[str, int, float]]) -> str:
    rows = [
        (
            link(download_href(view, bucket, key), key, cls="file"),
            esc(size(length)),
            esc(when(modified)),
        )
        for key, length, modified in files
    ]
    return table(("Key", "Size", "Modified"), rows, "No files delivered.", "files")


def cur_page(view: View) -> Response:
    from bcm_local.services.cur.definitions import NS

    rows = []
    for record in view.runtime.store.scan(NS, f"{view.account}::"):
        d, status = record.value["Definition"], record.value.get("ReportStatus") or {}
        folder = f"{d['S3Prefix']}/{d['ReportName']}/"
        rows.append(
            (
                f'<span class="report">{esc(d["ReportName"])}</span>',
                esc(d["TimeUnit"]),
                esc(f"{d['Format']} · {d['Compression']}"),
                esc(", ".join(d.get("AdditionalSchemaElements") or []) or "—"),
                esc(", ".join(d.get("AdditionalArtifacts") or []) or "—"),
                _destination(view, d["S3Bucket"], d["S3Prefix"], folder),
                esc(d.get("ReportVersioning", "")),
                badge(status.get("lastStatus"), None) + f" {esc(status.get('lastDelivery', ''))}",
            )
        )
    headers = (
        "Report",
        "Time unit",
        "Format",
        "Schema elements",
        "Artifacts",
        "Files",
        "Versioning",
        "Last delivery",
    )
    body = table(headers, rows, f"Account {view.account} has no report definitions.", "reports")
    return page(view, "/cur", f"Legacy CUR reports of {view.account}", body)
