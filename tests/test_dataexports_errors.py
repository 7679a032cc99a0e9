"""bcm-data-exports errors: validation, not found, duplicates, quotas, tokens, tag limits."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.config import Config

from bcm_local.testing import ServerProcess
from tests.conftest import NO_RETRY
from tests.dataexports_support import CUR_QUERY, FOCUS_QUERY, OFF, error, output, spec

S3 = "DestinationConfigurations.S3Destination"
OUT = f"{S3}.S3OutputConfigurations"
# botocore checks required members and minimum lengths itself; the server must too
UNCHECKED = NO_RETRY.merge(Config(parameter_validation=False))
MISSING_ARN = "arn:aws:bcm-data-exports:us-east-1:000000000000:export/missing"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(env=OFF) as proc:
        yield proc


@pytest.fixture
def bde(client: Callable[..., Any], request: pytest.FixtureRequest) -> Any:
    """A client of an account of its own per test (quotas are per account)."""
    account = f"{zlib.crc32(request.node.name.encode()) % 10**12:012d}"
    return client("bcm-data-exports", access_key=account, config=UNCHECKED)


def assert_invalid(err: dict[str, Any], field: str, *words: str) -> None:
    assert err["Code"] == "ValidationException", err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["Reason"] == "fieldValidationFailed"
    assert [f["Name"] for f in err["Fields"]] == [field]
    assert err["Fields"][0]["Message"]
    for word in words:
        assert word in err["Message"], err["Message"]


def test_duplicate_name_is_refused(bde: Any) -> None:
    bde.create_export(Export=spec("twice"))
    err = error(bde.create_export, Export=spec("twice", Description="other"))
    assert err["Message"] == "An export with the name twice already exists."
    assert_invalid(err, "export.name")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {f"{S3}.S3Bucket": ""},
            "export.destinationConfigurations.s3Destination.s3Bucket",
            ["S3Bucket"],
        ),
        (
            {f"{S3}.S3Region": " "},
            "export.destinationConfigurations.s3Destination.s3Region",
            ["S3Region"],
        ),
        (
            {OUT: output(OutputType="ATHENA")},
            "export.destinationConfigurations.s3Destination.s3OutputConfigurations.outputType",
            ["OutputType", "ATHENA", "CUSTOM"],
        ),
        (
            {OUT: output(Compression="GZIP")},
            "export.destinationConfigurations.s3Destination.s3OutputConfigurations.compression",
            ["GZIP", "PARQUET"],
        ),
        (
            {OUT: output(Format="TEXT_OR_CSV")},
            "export.destinationConfigurations.s3Destination.s3OutputConfigurations.compression",
            ["TEXT_OR_CSV", "GZIP"],
        ),
        (
            {OUT: output(Compression="ZIP")},
            "export.destinationConfigurations.s3Destination.s3OutputConfigurations.compression",
            ["ZIP"],
        ),
    ],
)
def test_destination_rules(bde: Any, changes: dict[str, Any], field: str, words: list[str]) -> None:
    assert_invalid(error(bde.create_export, Export=spec("bad-dest", **changes)), field, *words)
    assert bde.list_exports()["Exports"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"Name": "has space"}, "export.name"),
        ({"Name": "x" * 129}, "export.name"),
        ({"DataQuery.QueryStatement": "S" * 36001}, "export.dataQuery.queryStatement"),
        ({f"{S3}.S3Region": None}, "export.destinationConfigurations.s3Destination.s3Region"),
        ({"RefreshCadence.Frequency": "DAILY"}, "export.refreshCadence.frequency"),
        (
            {f"{S3}.S3BucketOwner": "12345"},
            "export.destinationConfigurations.s3Destination.s3BucketOwner",
        ),
    ],
)
def test_model_rules(bde: Any, changes: dict[str, Any], field: str) -> None:
    assert_invalid(error(bde.create_export, Export=spec("model", **changes)), field)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"DataQuery.QueryStatement": "DROP TABLE COST_AND_USAGE_REPORT"},
            "export.dataQuery.queryStatement",
        ),
        (
            {"DataQuery.QueryStatement": "SELECT no_such_column FROM COST_AND_USAGE_REPORT"},
            "export.dataQuery.queryStatement",
        ),
        ({"DataQuery.QueryStatement": "SELECT x FROM NO_SUCH_TABLE"}, None),
        (
            {
                "DataQuery.QueryStatement": CUR_QUERY,
                "DataQuery.TableConfigurations": {
                    "COST_AND_USAGE_REPORT": {"NO_SUCH_PROPERTY": "X"}
                },
            },
            None,
        ),
        (
            {
                "DataQuery.QueryStatement": CUR_QUERY,
                "DataQuery.TableConfigurations": {
                    "COST_AND_USAGE_REPORT": {"TIME_GRANULARITY": "WEEKLY"}
                },
            },
            None,
        ),
    ],
)
def test_query_rules(bde: Any, changes: dict[str, Any], field: str | None) -> None:
    err = error(bde.create_export, Export=spec("bad-query", **changes))
    assert err["Code"] == "ValidationException"
    assert err["Fields"][0]["Name"].startswith(field or "export.dataQuery")
    assert bde.list_exports()["Exports"] == []


def test_not_found_errors_name_the_resource(bde: Any) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = [
        (bde.get_export, {"ExportArn": MISSING_ARN}),
        (bde.update_export, {"ExportArn": MISSING_ARN, "Export": spec("missing")}),
        (bde.list_executions, {"ExportArn": MISSING_ARN}),
        (bde.get_execution, {"ExportArn": MISSING_ARN, "ExecutionId": "x"}),
        (bde.tag_resource, {"ResourceArn": MISSING_ARN, "ResourceTags": []}),
        (bde.untag_resource, {"ResourceArn": MISSING_ARN, "ResourceTagKeys": ["k"]}),
        (bde.list_tags_for_resource, {"ResourceArn": MISSING_ARN}),
    ]
    for call, kwargs in calls:
        err = error(call, **kwargs)
        assert err["Code"] == "ResourceNotFoundException"
        assert err["Message"] == f"Export {MISSING_ARN} not found."
        assert (err["ResourceId"], err["ResourceType"]) == (MISSING_ARN, "Export")


def test_unknown_execution(bde: Any) -> None:
    arn = bde.create_export(Export=spec("no-such-run"))["ExportArn"]
    err = error(bde.get_execution, ExportArn=arn, ExecutionId="nope")
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] == "Execution nope not found."
    assert (err["ResourceId"], err["ResourceType"]) == ("nope", "Execution")


def test_malformed_arn_is_a_validation_error(bde: Any) -> None:
    err = error(bde.get_export, ExportArn="arn:aws:s3:::my-bucket-not-an-export")
    assert_invalid(err, "exportArn")


def test_update_cannot_rename_or_change_table(bde: Any) -> None:
    arn = bde.create_export(Export=spec("fixed", **{"DataQuery.QueryStatement": CUR_QUERY}))[
        "ExportArn"
    ]
    assert_invalid(error(bde.update_export, ExportArn=arn, Export=spec("renamed")), "export.name")
    other_table = spec("fixed", **{"DataQuery.QueryStatement": FOCUS_QUERY})
    err = error(bde.update_export, ExportArn=arn, Export=other_table)
    assert_invalid(err, "export.dataQuery.queryStatement", "COST_AND_USAGE_REPORT", "FOCUS_1_2_AWS")
    bad = spec("fixed", **{f"{S3}.S3Bucket": ""})
    assert_invalid(
        error(bde.update_export, ExportArn=arn, Export=bad),
        "export.destinationConfigurations.s3Destination.s3Bucket",
    )
    got = bde.get_export(ExportArn=arn)["Export"]
    assert got["DataQuery"]["QueryStatement"] == CUR_QUERY


def test_quota_per_table(bde: Any) -> None:
    focus = {"DataQuery.QueryStatement": FOCUS_QUERY}
    first = bde.create_export(Export=spec("focus-1", **focus))["ExportArn"]
    bde.create_export(Export=spec("focus-2", **focus))
    err = error(bde.create_export, Export=spec("focus-3", **focus))
    assert err["Code"] == "ServiceQuotaExceededException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["ServiceCode"] == "AWSBillingAndCostManagementDataExports"
    assert err["QuotaCode"] and err["ResourceType"] == "Export"
    assert "FOCUS_1_2_AWS" in err["Message"]
    cur = [bde.create_export(Export=spec(f"cur-{i}"))["ExportArn"] for i in range(5)]
    assert error(bde.create_export, Export=spec("cur-5"))["Code"] == "ServiceQuotaExceededException"
    bde.delete_export(ExportArn=first)
    bde.create_export(Export=spec("focus-3", **focus))
    assert len(cur) == 5


def test_quota_is_a_setting() -> None:
    from tests.conftest import make_client

    env = {**OFF, "BCM_LOCAL_DATA_EXPORTS_QUOTAS": "COST_AND_USAGE_REPORT=1"}
    with ServerProcess(env=env) as proc:
        bde = make_client(proc.endpoint, "bcm-data-exports")
        bde.create_export(Export=spec("one"))
        assert error(bde.create_export, Export=spec("two"))["Code"] == (
            "ServiceQuotaExceededException"
        )
        for i in range(3):  # tables without a limit
            bde.create_export(Export=spec(f"f{i}", **{"DataQuery.QueryStatement": FOCUS_QUERY}))


@pytest.mark.parametrize(
    "token", ["forged", "eyJsIjoiZXhwb3J0cyIsInMiOjF9AAAAAAAAAAAAAAAAAAAAAA==", "!!"]
)
def test_forged_tokens_are_refused(bde: Any, token: str) -> None:
    arn = bde.create_export(Export=spec("tokens"))["ExportArn"]
    calls: list[tuple[Any, dict[str, Any]]] = [
        (bde.list_exports, {}),
        (bde.list_executions, {"ExportArn": arn}),
        (bde.list_tables, {}),
        (bde.list_tags_for_resource, {"ResourceArn": arn}),
    ]
    for call, kwargs in calls:
        err = error(call, NextToken=token, **kwargs)
        assert_invalid(err, "nextToken", "NextToken")


def test_tokens_are_bound_to_their_listing(client: Callable[..., Any]) -> None:
    a = client("bcm-data-exports", access_key="777777777777")
    b = client("bcm-data-exports", access_key="888888888888")
    for name in ("t1", "t2"):
        a.create_export(Export=spec(name))
        b.create_export(Export=spec(name))
    token = a.list_exports(MaxResults=1)["NextToken"]
    assert a.list_exports(NextToken=token)["Exports"][0]["ExportName"] == "t2"
    assert error(b.list_exports, NextToken=token)["Code"] == "ValidationException"
    arn = a.list_exports()["Exports"][0]["ExportArn"]
    err = error(a.list_tags_for_resource, ResourceArn=arn, NextToken=token)
    assert err["Code"] == "ValidationException"


def tags(count: int, prefix: str = "k") -> list[dict[str, str]]:
    return [{"Key": f"{prefix}{i}", "Value": str(i)} for i in range(count)]


def test_tag_limits(bde: Any) -> None:
    arn = bde.create_export(Export=spec("tag-limits"), ResourceTags=tags(150))["ExportArn"]
    err = error(bde.tag_resource, ResourceArn=arn, ResourceTags=tags(60, "new"))
    assert_invalid(err, "resourceTags", "200")
    bde.tag_resource(ResourceArn=arn, ResourceTags=tags(50, "new"))  # exactly 200
    bde.tag_resource(ResourceArn=arn, ResourceTags=tags(10))  # overwriting adds none
    first = bde.list_tags_for_resource(ResourceArn=arn)
    rest = bde.list_tags_for_resource(ResourceArn=arn, NextToken=first["NextToken"])
    assert len(first["ResourceTags"]) + len(rest["ResourceTags"]) == 200
    assert "NextToken" not in rest
    assert error(bde.tag_resource, ResourceArn=arn, ResourceTags=tags(1, "more"))["Code"] == (
        "ValidationException"
    )


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (tags(201), "resourceTags"),
        ([{"Key": "k" * 129, "Value": "v"}], "resourceTags.1.member.key"),
        ([{"Key": "", "Value": "v"}], "resourceTags.1.member.key"),
        ([{"Key": "k", "Value": "v" * 257}], "resourceTags.1.member.value"),
        ([{"Key": "aws:owner", "Value": "v"}], "resourceTags"),
        ([{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}], "resourceTags"),
    ],
)
def test_bad_tags(bde: Any, bad: list[dict[str, str]], field: str) -> None:
    assert_invalid(error(bde.create_export, Export=spec("bad-tags"), ResourceTags=bad), field)
    assert bde.list_exports()["Exports"] == []
    arn = bde.create_export(Export=spec("good-tags"))["ExportArn"]
    assert_invalid(error(bde.tag_resource, ResourceArn=arn, ResourceTags=bad), field)
    assert bde.list_tags_for_resource(ResourceArn=arn)["ResourceTags"] == []


def test_get_table_errors(bde: Any) -> None:
    assert error(bde.get_table, TableName="NO_SUCH_TABLE")["Code"] == "ValidationException"
    err = error(bde.get_table, TableName="COST_AND_USAGE_REPORT", TableProperties={"NOPE": "TRUE"})
    assert err["Code"] == "ValidationException"
