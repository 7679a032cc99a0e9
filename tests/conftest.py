"""Shared fixtures: a real bcm-local server process, boto3 clients and the AWS CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from bcm_local.testing import AWS_TEST_ENV, ServerProcess

# The suite's clock: every server a test starts, and every setting loaded from the
# environment, sees this instant as "now" (ticking from when the server starts), so the
# suite gives the same results on any day of the year. Tests of other clocks set
# BCM_LOCAL_NOW themselves (tests/test_clock_edges.py).
TEST_NOW = "2026-05-27T12:00:00Z"
os.environ["BCM_LOCAL_NOW"] = TEST_NOW

NO_RETRY = Config(
    retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60
)


def code_of(call: Callable[..., Any], **kw: Any) -> str:
    """The AWS error code that `call(**kw)` fails with (the test fails if it succeeds)."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        call(**kw)
    return str(caught.value.response["Error"]["Code"])


def status_of(call: Callable[..., Any], **kw: Any) -> tuple[str, int]:
    """The AWS error code and HTTP status that `call(**kw)` fails with."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        call(**kw)
    error = caught.value.response
    return str(error["Error"]["Code"]), int(error["ResponseMetadata"]["HTTPStatusCode"])


def make_client(endpoint: str, service: str, access_key: str = "test", **kw: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=kw.pop("region_name", "us-east-1"),
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=kw.pop("config", NO_RETRY),
        **kw,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """One in-memory server per test module."""
    with ServerProcess() as proc:
        yield proc


@pytest.fixture(scope="module")
def ce(server: ServerProcess) -> Any:
    """A Cost Explorer client of the Cost Explorer tests' account (tests/ce_support.py)
    on the module's `server`."""
    return make_client(server.endpoint, "ce", "123456789012")


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Callable[..., Any]:
    """client("s3") / client("bcm-data-exports", access_key="111111111111")."""

    def build(service: str, access_key: str = "test", **kw: Any) -> Any:
        return make_client(server.endpoint, service, access_key, **kw)

    return build


def run_cli(
    endpoint: str, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> Any:
    """Run the AWS CLI against `endpoint`; returns parsed JSON output (or text)."""
    full_env = {**os.environ, **AWS_TEST_ENV, "AWS_ENDPOINT_URL": endpoint, **(env or {})}
    full_env.pop("AWS_PROFILE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--output", "json"],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    if not check:
        return proc
    try:
        return json.loads(proc.stdout) if proc.stdout.strip() else None
    except ValueError:
        return proc.stdout


@pytest.fixture(scope="module")
def cli(server: ServerProcess) -> Callable[..., Any]:
    def call(*args: str, **kw: Any) -> Any:
        return run_cli(server.endpoint, *args, **kw)

    return call
