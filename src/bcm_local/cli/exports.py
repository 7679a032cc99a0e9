"""`bcm-local exports list|get|run`: the Data Exports API of a running server through
botocore, as readable tables (or JSON with --json)."""

from __future__ import annotations

import argparse
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

from bcm_local.cli.client import (
    DEFAULT_ACCOUNT,
    CliError,
    console,
    endpoint,
    fetch_summary,
    not_running,
    table,
)
from bcm_local.units import size


def _client(args: argparse.Namespace, service: str) -> Any:
    import botocore.session
    from botocore.config import Config

    session = botocore.session.get_session()
    return session.create_client(
        service,
        endpoint_url=endpoint(args),
        region_name=args.region,
        aws_access_key_id="test" if args.account == DEFAULT_ACCOUNT else args.account,
        aws_secret_access_key=args.secret_key,
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=900
        ),
    )


def _call(args: argparse.Namespace, fn: Any, **params: Any) -> Any:
    """One API call; connection failures and AWS errors become CliError."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    try:
        return fn(**params)
    except EndpointConnectionError:
        raise not_running(endpoint(args)) from None
    except ClientError as err:
        error = err.response.get("Error", {})
        raise CliError(f"{error.get('Code', 'Error')}: {error.get('Message', '')}") from None
    except BotoCoreError as err:
        raise CliError(str(err)) from None


def _all(args: argparse.Namespace, client: Any, operation: str, key: str, **params: Any) -> Any:
    items: list[Any] = []
    token = None
    while True:
        extra: dict[str, str] = {"NextToken": token} if token else {}
        page = _call(args, getattr(client, operation), **params, **extra)
        items += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return items


def _arn_of(args: argparse.Namespace, client: Any, name: str) -> str:
    if name.startswith("arn:"):
        return name
    for ref in _all(args, client, "list_exports", "Exports"):
        if ref["ExportName"] == name:
            return str(ref["ExportArn"])
    raise CliError(f"account {args.account} has no export named {name!r}")


def _when(value: Any) -> str:
    if not value:
        return "—"
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(value, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _table_of(export: dict[str, Any]) -> str:
    found = re.search(r"\bFROM\s+([A-Za-z0-9_]+)", export["DataQuery"]["QueryStatement"], re.I)
    return found.group(1) if found else "?"


def _destination(export: dict[str, Any]) -> str:
    dest = export["DestinationConfigurations"]["S3Destination"]
    prefix = dest.get("S3Prefix") or ""
    return f"s3://{dest['S3Bucket']}/{prefix}" if prefix else f"s3://{dest['S3Bucket']}"


def _status_text(status: dict[str, Any]) -> str:
    code = status.get("StatusCode", "—")
    color = "green" if code in ("HEALTHY", "DELIVERY_SUCCESS") else "red"
    if code not in ("HEALTHY", "UNHEALTHY", "DELIVERY_SUCCESS") and "FAILURE" not in code:
        color = "yellow"
    reason = status.get("StatusReason")
    return f"[{color}]{code}[/]" + (f" ({reason})" if reason else "")


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: _when(v)))


def exports_list(args: argparse.Namespace) -> int:
    client = _client(args, "bcm-data-exports")
    refs = _all(args, client, "list_exports", "Exports")
    found = [_call(args, client.get_export, ExportArn=ref["ExportArn"]) for ref in refs]
    if args.json:
        print(json.dumps([_jsonable({k: f[k] for k in ("Export", "ExportStatus")}) for f in found]))
        return 0
    rows = table(
        f"Exports of account {args.account}",
        "Name",
        "Table",
        "Destination",
        "Format",
        "Status",
        "Last refresh",
    )
    for item in found:
        export, state = item["Export"], item["ExportStatus"]
        output = export["DestinationConfigurations"]["S3Destination"]["S3OutputConfigurations"]
        rows.add_row(
            export["Name"],
            _table_of(export),
            _destination(export),
            f"{output['Format']} {output['Overwrite']}",
            _status_text(state),
            _when(state.get("LastRefreshedAt")),
        )
    out = console()
    if not found:
        out.print(f"Account {args.account} has no exports.")
        return 0
    out.print(rows)
    return 0


def _executions(args: argparse.Namespace, client: Any, arn: str) -> list[dict[str, Any]]:
    runs = _all(args, client, "list_executions", "Executions", ExportArn=arn)
    runs.sort(key=lambda r: r["ExecutionStatus"].get("CreatedAt") or 0, reverse=True)
    return list(runs)


def _files(args: argparse.Namespace, export: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The export's objects in its folder, or None when the bucket cannot be listed."""
    from botocore.exceptions import ClientError

    from bcm_local.delivery.layouts.floci import base

    dest = export["DestinationConfigurations"]["S3Destination"]
    folder = base(dest.get("S3Prefix") or "", export["Name"]) + "/"
    s3 = _client(args, "s3")
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=dest["S3Bucket"], Prefix=folder)
        return [obj for page in pages for obj in page.get("Contents", [])]
    except ClientError:
        return None


def exports_get(args: argparse.Namespace) -> int:
    client = _client(args, "bcm-data-exports")
    arn = _arn_of(args, client, args.name)
    found = _call(args, client.get_export, ExportArn=arn)
    export, state = found["Export"], found["ExportStatus"]
    runs = _executions(args, client, arn)[: max(args.executions, 0)]
    files = _files(args, export)
    if args.json:
        body = {"Export": export, "ExportStatus": state, "Executions": runs, "Files": files}
        print(json.dumps(_jsonable(body), indent=2))
        return 0
    out = console()
    dest = export["DestinationConfigurations"]["S3Destination"]
    output = dest["S3OutputConfigurations"]
    facts = table(f"Export {export['Name']}", "", "")
    facts.show_header = False
    console_url = f"{endpoint(args)}/_bcm_local/exports/{export['Name']}"
    if args.account != DEFAULT_ACCOUNT:
        console_url += f"?account={args.account}"
    for key, value in (
        ("ARN", export["ExportArn"]),
        ("Description", export.get("Description") or "—"),
        ("Table", _table_of(export)),
        ("Status", _status_text(state)),
        ("Created", _when(state.get("CreatedAt"))),
        ("Last refresh", _when(state.get("LastRefreshedAt"))),
        ("Destination", f"{_destination(export)} ({dest['S3Region']})"),
        ("Output", " ".join(str(v) for v in output.values())),
        ("Refresh cadence", export["RefreshCadence"]["Frequency"]),
        ("Console", console_url),
    ):
        facts.add_row(key, value)
    out.print(facts)
    out.print("[bold]SQL[/]")
    out.print(export["DataQuery"]["QueryStatement"], markup=False)
    configs = export["DataQuery"].get("TableConfigurations")
    if configs:
        out.print("[bold]Table configurations[/]")
        out.print(json.dumps(configs, indent=2, sort_keys=True), markup=False)
    rows = table("Executions (latest first)", "Execution", "Status", "Created", "Completed")
    for item in runs:
        status_ = item["ExecutionStatus"]
        rows.add_row(
            item["ExecutionId"],
            _status_text(status_),
            _when(status_.get("CreatedAt")),
            _when(status_.get("CompletedAt")),
        )
    out.print(rows)
    if files is None:
        out.print(f"Files: the account cannot list s3://{dest['S3Bucket']}.")
        return 0
    listing = table("Files", "Key", "Size", "Modified")
    for obj in files:
        listing.add_row(obj["Key"], size(int(obj["Size"])), _when(obj["LastModified"]))
    out.print(listing)
    return 0


def exports_run(args: argparse.Namespace) -> int:
    client = _client(args, "bcm-data-exports")
    arn = _arn_of(args, client, args.name)
    export = _call(args, client.get_export, ExportArn=arn)["Export"]
    before = {r["ExecutionId"] for r in _executions(args, client, arn)}
    definition = {k: v for k, v in export.items() if k != "ExportArn"}
    started = time.monotonic()
    _call(args, client.update_export, ExportArn=arn, Export=definition)
    elapsed = time.monotonic() - started
    new = [r for r in _executions(args, client, arn) if r["ExecutionId"] not in before]
    if not new:
        mode = fetch_summary(endpoint(args), args.account)["emit_modes"]["bcm-data-exports"]
        raise CliError(
            f"UpdateExport started no execution: the server's bcm-data-exports emit mode is "
            f"{mode!r}, and exports run on UpdateExport only in 'synchronous' mode"
        )
    latest = new[0]
    code = latest["ExecutionStatus"]["StatusCode"]
    files = [f["Key"] for f in _files(args, export) or [] if latest["ExecutionId"] in f["Key"]]
    if args.json:
        print(json.dumps(_jsonable({**latest, "ExportArn": arn, "Files": files}), indent=2))
        return 0 if code == "DELIVERY_SUCCESS" else 1
    out = console()
    out.print(
        f"Export {export['Name']}: execution {latest['ExecutionId']} "
        f"{_status_text(latest['ExecutionStatus'])} in {elapsed:.2f}s"
    )
    for key in files:
        out.print(
            f"  s3://{export['DestinationConfigurations']['S3Destination']['S3Bucket']}/{key}"
        )
    return 0 if code == "DELIVERY_SUCCESS" else 1
