"""`bcm-local status` and `bcm-local exports list|get|run` as a user runs them: a subprocess
against a real server, and the friendly errors (no server, unknown export, bad scenario)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_support import BROKEN, BUCKET, CSV, FOCUS, OTHER, SECRET, populate

from bcm_local.testing import ServerProcess, free_port


def bcm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "COLUMNS": "250", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bcm_local", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=full,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess() as proc:
        populate(proc.endpoint)
        yield proc


def at(server: ServerProcess) -> tuple[str, str]:
    return ("--port", str(server.port))


def test_status_shows_services_and_counts(server: ServerProcess) -> None:
    done = bcm("status", *at(server))
    assert done.returncode == 0, done.stderr
    assert f"is running at http://127.0.0.1:{server.port}" in done.stdout
    for text in ("bcm-data-exports", "synchronous", "Exports", "DELIVERY_FAILURE", "S3 buckets"):
        assert text in done.stdout
    as_json = json.loads(bcm("status", *at(server), "--json").stdout)
    assert as_json["account"]["exports"] == 3 and as_json["totals"]["exports"] == 4
    theirs = json.loads(bcm("status", *at(server), "--json", "--account", OTHER).stdout)
    assert theirs["account"]["exports"] == 1


def test_status_with_endpoint_flag_and_environment(server: ServerProcess) -> None:
    assert bcm("status", "--endpoint", server.endpoint).returncode == 0
    assert bcm("status", env={"BCM_LOCAL_PORT": str(server.port)}).returncode == 0


def test_no_server_is_one_line_and_exit_1() -> None:
    port = str(free_port())
    for args in (
        ("status",),
        ("exports", "list"),
        ("exports", "get", "x"),
        ("exports", "run", "x"),
    ):
        done = bcm(*args, "--port", port)
        assert done.returncode == 1, args
        assert done.stderr.strip() == (
            f"bcm-local: no bcm-local server is running at http://127.0.0.1:{port} "
            "(start one with `bcm-local serve`)"
        )
        assert done.stdout == ""


def test_exports_list(server: ServerProcess) -> None:
    done = bcm("exports", "list", *at(server))
    assert done.returncode == 0, done.stderr
    for text in (FOCUS, CSV, BROKEN, "FOCUS_1_2_AWS", "COST_AND_USAGE_REPORT", "HEALTHY"):
        assert text in done.stdout
    assert "UNHEALTHY (INSUFFICIENT_PERMISSION)" in done.stdout
    assert f"s3://{BUCKET}/exports" in done.stdout and SECRET not in done.stdout
    theirs = json.loads(bcm("exports", "list", *at(server), "--account", OTHER, "--json").stdout)
    assert [e["Export"]["Name"] for e in theirs] == [SECRET]


def test_exports_get(server: ServerProcess) -> None:
    done = bcm("exports", "get", FOCUS, *at(server))
    assert done.returncode == 0, done.stderr
    assert "SELECT * FROM FOCUS_1_2_AWS" in done.stdout
    assert "DELIVERY_SUCCESS" in done.stdout and f"exports/{FOCUS}/" in done.stdout
    assert f"/_bcm_local/exports/{FOCUS}" in done.stdout
    body = json.loads(bcm("exports", "get", FOCUS, *at(server), "--json").stdout)
    assert body["Export"]["Name"] == FOCUS and body["Executions"] and body["Files"]
    missing = bcm("exports", "get", "nope", *at(server))
    assert missing.returncode == 1
    assert missing.stderr.strip() == "bcm-local: account 000000000000 has no export named 'nope'"


def test_exports_run_creates_one_execution(server: ServerProcess) -> None:
    before = json.loads(bcm("exports", "get", CSV, *at(server), "--json").stdout)
    done = bcm("exports", "run", CSV, *at(server), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ExecutionStatus"]["StatusCode"] == "DELIVERY_SUCCESS"
    assert result["Files"] and all(result["ExecutionId"] in key for key in result["Files"])
    after = json.loads(bcm("exports", "get", CSV, *at(server), "--json").stdout)
    assert len(after["Executions"]) == len(before["Executions"]) + 1
    text = bcm("exports", "run", FOCUS, *at(server))
    assert text.returncode == 0 and "DELIVERY_SUCCESS" in text.stdout


def test_exports_run_reports_a_failed_execution(server: ServerProcess) -> None:
    done = bcm("exports", "run", BROKEN, *at(server))
    assert done.returncode == 1
    assert "DELIVERY_FAILURE (INSUFFICIENT_PERMISSION)" in done.stdout


def test_exports_run_explains_modes_that_do_not_run() -> None:
    with ServerProcess(env={"FLOCI_SERVICES_BCM_DATA_EXPORTS_EMIT_MODE": "off"}) as proc:
        populate(proc.endpoint)
        done = bcm("exports", "run", FOCUS, "--port", str(proc.port))
    assert done.returncode == 1
    assert "emit mode is 'off'" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_bad_account_is_refused() -> None:
    done = bcm("exports", "list", "--account", "12")
    assert done.returncode == 1 and "--account must be 12 digits" in done.stderr


def test_help_explains_every_option() -> None:
    for args in (("status",), ("exports",), ("exports", "list"), ("exports", "get"), ("emit",)):
        done = bcm(*args, "--help")
        assert done.returncode == 0, args
    run = bcm("exports", "run", "--help").stdout
    for text in ("--endpoint", "--port", "--account", "--region", "--json", "UpdateExport"):
        assert text in run


def test_serve_refuses_a_bad_scenario_with_its_line_and_reason(tmp_path: Path) -> None:
    bad = tmp_path / "scenario.yaml"
    bad.write_text("resources:\n  - kind: ec2\n    type: m5.large\n  - kind: ec3\n")
    done = bcm("serve", "--port", str(free_port()), "--billing-scenario", str(bad))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"bcm-local: bad scenario file {bad}, line 4: scenario.resources[1].kind: 'ec3' is not "
        "one of alb, bedrock, cloudwatch, data_transfer, dynamodb, ebs, ec2, kms, lambda, nat, "
        "rds, s3"
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"resources": [\n  {"kind": "ec2",}\n]}')
    done = bcm("serve", "--port", str(free_port()), "--billing-scenario", str(broken))
    assert done.returncode == 2
    assert f"bad scenario file {broken}, line 2: " in done.stderr
    missing = bcm("serve", "--billing-scenario", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "cannot read scenario file" in missing.stderr


def test_status_surfaces_a_scenario_that_went_bad(tmp_path: Path) -> None:
    scenario = tmp_path / "org.yaml"
    scenario.write_text("resources:\n  - kind: ec2\n    type: m5.large\n")
    with ServerProcess(env={"BCM_LOCAL_BILLING_SCENARIO": str(scenario)}) as proc:
        assert "Scenario error" not in bcm("status", "--port", str(proc.port)).stdout
        scenario.write_text("resources:\n  - kind: ec2\n    count: [2\n")
        done = bcm("status", "--port", str(proc.port))
    assert done.returncode == 0
    assert f"Scenario error: bad scenario file {scenario}, line" in done.stdout


def test_exports_sign_with_the_default_credentials_in_strict_mode() -> None:
    with ServerProcess(env={"BCM_LOCAL_STRICT_AUTH": "true"}) as proc:
        ok = bcm("exports", "list", "--port", str(proc.port))
        wrong = bcm("exports", "list", "--port", str(proc.port), "--secret-key", "nope")
    assert ok.returncode == 0 and "has no exports" in ok.stdout
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("bcm-local: InvalidSignatureException: ")
