"""Shared by the tests/test_dataexports_*.py modules: export bodies, error reading, servers."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bcm_local.testing import output_configurations

SEED_ARN = "arn:aws:bcm-data-exports:us-east-1:000000000000:export/focus-monthly"

# The seed's AWS CLI example, verbatim.
SEED_CLI_EXPORT = """{
"Name": "focus-monthly",
"DataQuery": {"QueryStatement": "SELECT * FROM COST_AND_USAGE_REPORT"},
"DestinationConfigurations": {
"S3Destination": {
"S3Bucket": "my-billing",
"S3Prefix": "focus",
"S3Region": "us-east-1",
"S3OutputConfigurations": {
"Format": "PARQUET",
"Compression": "PARQUET",
"OutputType": "CUSTOM",
"Overwrite": "OVERWRITE_REPORT"
}
}
},
"RefreshCadence": {"Frequency": "SYNCHRONOUS"}
}"""

# The same export as a dict (the seed's boto3 example has it inline).
SEED_EXPORT: dict[str, Any] = json.loads(SEED_CLI_EXPORT)

CUR_QUERY = (
    "SELECT identity_line_item_id, identity_time_interval, line_item_product_code,"
    "line_item_unblended_cost FROM COST_AND_USAGE_REPORT"
)
FOCUS_QUERY = "SELECT BilledCost, ServiceName, ChargePeriodStart FROM FOCUS_1_2_AWS"

EMIT_MODE = "FLOCI_SERVICES_BCM_DATA_EXPORTS_EMIT_MODE"
OFF = {EMIT_MODE: "off"}


def spec(name: str, **changes: Any) -> dict[str, Any]:
    """The seed's export renamed, with dotted-path overrides:
    spec("x", **{"DataQuery.QueryStatement": "..."}); a value of None removes the member."""
    body = copy.deepcopy(SEED_EXPORT)
    body["Name"] = name
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        target = body
        for part in parents:
            target = target.setdefault(part, {})
        if value is None:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return body


def output(**members: str) -> dict[str, str]:
    return {**output_configurations(), **members}


def error(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """Call an operation that must fail; its parsed error response (code under "Code")."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response: dict[str, Any] = caught.value.response
    return {**response, "Code": response["Error"]["Code"]}


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll until `check()` is truthy (for the `daily` scheduler); its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def s3_ready(s3: Any) -> bool:
    """True once the built-in S3 answers (it is built alongside this service)."""
    try:
        s3.list_buckets()
    except ClientError:
        return False
    return True
