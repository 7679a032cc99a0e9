"""bcm-data-exports management plane: every operation's success shape (emit mode `off`)."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from bcm_local.testing import ServerProcess
from tests.dataexports_support import CUR_QUERY, FOCUS_QUERY, OFF, error, output, spec

ACCOUNT = "000000000000"
NO_QUOTAS = "BCM_LOCAL_DATA_EXPORTS_QUOTAS"
ARN_PREFIX = f"arn:aws:bcm-data-exports:us-east-1:{ACCOUNT}:export/"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(env={**OFF, NO_QUOTAS: ""}) as proc:
        yield proc


@pytest.fixture(scope="module")
def bde(client: Callable[..., Any]) -> Any:
    return client("bcm-data-exports")


def raw(endpoint: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """The JSON exactly as the server wrote it (unsigned: account 000000000000)."""
    request = urllib.request.Request(
        endpoint + "/",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSBillingAndCostManagementDataExports.{operation}",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        result: dict[str, Any] = json.load(resp)
        return result


def full_spec(name: str) -> dict[str, Any]:
    return spec(
        name,
        Description="monthly costs",
        **{
            "DataQuery.QueryStatement": CUR_QUERY,
            "DataQuery.TableConfigurations": {
                "COST_AND_USAGE_REPORT": {
                    "TIME_GRANULARITY": "HOURLY",
                    "INCLUDE_RESOURCES": "FALSE",
                    "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY": "FALSE",
                    "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "FALSE",
                }
            },
            "DestinationConfigurations.S3Destination.S3BucketOwner": "123456789012",
        },
    )


def test_create_then_get_returns_the_export_as_stored(bde: Any) -> None:
    body = full_spec("api-roundtrip")
    arn = bde.create_export(Export=body)["ExportArn"]
    assert arn == ARN_PREFIX + "api-roundtrip"
    got = bde.get_export(ExportArn=arn)
    assert got["Export"] == {"ExportArn": arn, **body}
    status = got["ExportStatus"]
    assert status["StatusCode"] == "HEALTHY"
    assert "StatusReason" not in status and "LastRefreshedAt" not in status
    assert isinstance(status["CreatedAt"], datetime)
    assert status["LastUpdatedAt"] == status["CreatedAt"]


def test_wire_shapes_are_aws_shapes(server: ServerProcess, bde: Any) -> None:
    arn = bde.create_export(Export=spec("api-wire"))["ExportArn"]
    got = raw(server.endpoint, "GetExport", {"ExportArn": arn})
    assert set(got) == {"Export", "ExportStatus"}
    assert "ExportStatus" not in got["Export"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", got["ExportStatus"]["CreatedAt"])
    listed = raw(server.endpoint, "ListExports", {})
    ref = next(e for e in listed["Exports"] if e["ExportArn"] == arn)
    assert set(ref) == {"ExportArn", "ExportName", "ExportStatus"}
    assert ref["ExportName"] == "api-wire"
    assert set(raw(server.endpoint, "ListExecutions", {"ExportArn": arn})) == {"Executions"}


def test_export_arn_in_the_request_body_is_ignored(bde: Any) -> None:
    body = spec("api-ignored-arn", ExportArn=ARN_PREFIX + "something-else")
    arn = bde.create_export(Export=body)["ExportArn"]
    assert arn == ARN_PREFIX + "api-ignored-arn"
    assert bde.get_export(ExportArn=arn)["Export"]["ExportArn"] == arn


def test_arn_carries_the_callers_region_and_account(client: Callable[..., Any]) -> None:
    eu = client("bcm-data-exports", access_key="555555555555", region_name="eu-west-1")
    arn = eu.create_export(Export=spec("api-region"))["ExportArn"]
    assert arn == "arn:aws:bcm-data-exports:eu-west-1:555555555555:export/api-region"
    assert eu.get_export(ExportArn=arn)["Export"]["Name"] == "api-region"


def test_aws_arn_style_appends_a_uuid() -> None:
    from tests.conftest import make_client

    with ServerProcess(env={**OFF, "BCM_LOCAL_EXPORT_ARN_STYLE": "aws"}) as proc:
        bde = make_client(proc.endpoint, "bcm-data-exports")
        arn = bde.create_export(Export=spec("styled"))["ExportArn"]
        uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        assert re.fullmatch(re.escape(ARN_PREFIX + "styled-") + uuid, arn)
        assert bde.get_export(ExportArn=arn)["Export"]["Name"] == "styled"
        assert error(bde.create_export, Export=spec("styled"))["Code"] == "ValidationException"


def test_update_replaces_every_mutable_field(bde: Any) -> None:
    arn = bde.create_export(Export=full_spec("api-update"))["ExportArn"]
    before = bde.get_export(ExportArn=arn)["ExportStatus"]
    new = spec(
        "api-update",
        **{
            "DataQuery.QueryStatement": "SELECT line_item_unblended_cost "
            "FROM COST_AND_USAGE_REPORT",
            "DataQuery.TableConfigurations": {
                "COST_AND_USAGE_REPORT": {"TIME_GRANULARITY": "DAILY"}
            },
            "DestinationConfigurations.S3Destination.S3Prefix": "other/prefix",
            "DestinationConfigurations.S3Destination.S3OutputConfigurations": output(
                Overwrite="CREATE_NEW_REPORT"
            ),
        },
    )
    assert bde.update_export(ExportArn=arn, Export=new)["ExportArn"] == arn
    got = bde.get_export(ExportArn=arn)
    assert got["Export"] == {"ExportArn": arn, **new}  # Description and S3BucketOwner gone
    assert got["ExportStatus"]["CreatedAt"] == before["CreatedAt"]
    assert got["ExportStatus"]["LastUpdatedAt"] >= before["LastUpdatedAt"]


def test_update_returns_the_arn(bde: Any) -> None:
    arn = bde.create_export(Export=spec("api-update-arn"))["ExportArn"]
    result = bde.update_export(ExportArn=arn, Export=spec("api-update-arn", Description="x"))
    assert result["ExportArn"] == arn


def test_delete_is_idempotent_and_frees_the_name(bde: Any) -> None:
    arn = bde.create_export(Export=spec("api-delete"), ResourceTags=[{"Key": "k", "Value": "v"}])[
        "ExportArn"
    ]
    assert bde.delete_export(ExportArn=arn)["ExportArn"] == arn
    assert error(bde.get_export, ExportArn=arn)["Code"] == "ResourceNotFoundException"
    assert bde.delete_export(ExportArn=arn)["ExportArn"] == arn
    assert bde.delete_export(ExportArn=ARN_PREFIX + "never-existed")["ExportArn"]
    again = bde.create_export(Export=spec("api-delete"))["ExportArn"]
    assert again == arn
    assert bde.list_tags_for_resource(ResourceArn=arn)["ResourceTags"] == []
    bde.delete_export(ExportArn=arn)


def test_list_exports_pages_through_everything(client: Callable[..., Any]) -> None:
    bde = client("bcm-data-exports", access_key="666666666666")
    names = [f"page-{i}" for i in range(5)]
    arns = [bde.create_export(Export=spec(n))["ExportArn"] for n in names]
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        result = bde.list_exports(**kwargs)
        pages += 1
        assert len(result["Exports"]) <= 2
        seen += [e["ExportArn"] for e in result["Exports"]]
        token = result.get("NextToken")
        if not token:
            break
    assert seen == arns and pages == 3
    everything = bde.list_exports()["Exports"]
    assert [e["ExportName"] for e in everything] == names
    assert "NextToken" not in bde.list_exports()
    assert all(e["ExportStatus"]["StatusCode"] == "HEALTHY" for e in everything)
    paginated = bde.get_paginator("list_exports").paginate(PaginationConfig={"PageSize": 1})
    assert [e["ExportArn"] for p in paginated for e in p["Exports"]] == arns


def test_list_executions_is_empty_when_nothing_ran(bde: Any) -> None:
    arn = bde.create_export(Export=spec("api-no-runs"))["ExportArn"]
    assert bde.list_executions(ExportArn=arn)["Executions"] == []


def test_list_tables_describes_the_exportable_tables(bde: Any) -> None:
    tables = {t["TableName"]: t for t in bde.list_tables()["Tables"]}
    assert {"COST_AND_USAGE_REPORT", "FOCUS_1_2_AWS"} <= set(tables)
    cur = tables["COST_AND_USAGE_REPORT"]
    assert cur["Description"]
    props = {p["Name"]: p for p in cur["TableProperties"]}
    assert "HOURLY" in props["TIME_GRANULARITY"]["ValidValues"]
    assert props["TIME_GRANULARITY"]["DefaultValue"]
    one_by_one = bde.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1})
    assert [t["TableName"] for p in one_by_one for t in p["Tables"]] == list(tables)


def test_get_table_returns_its_schema(bde: Any) -> None:
    focus = bde.get_table(TableName="FOCUS_1_2_AWS")
    assert focus["TableName"] == "FOCUS_1_2_AWS"
    columns = {c["Name"]: c for c in focus["Schema"]}
    assert {"BilledCost", "BillingPeriodStart", "ServiceName", "Tags"} <= set(columns)
    assert all(c["Type"] for c in focus["Schema"])
    plain = bde.get_table(TableName="COST_AND_USAGE_REPORT")
    with_resources = bde.get_table(
        TableName="COST_AND_USAGE_REPORT", TableProperties={"INCLUDE_RESOURCES": "TRUE"}
    )
    assert with_resources["TableProperties"]["INCLUDE_RESOURCES"] == "TRUE"
    plain_names = {c["Name"] for c in plain["Schema"]}
    assert "line_item_resource_id" in {c["Name"] for c in with_resources["Schema"]} - plain_names


def test_tags_round_trip(bde: Any) -> None:
    tags = [{"Key": "team", "Value": "finops"}, {"Key": "env", "Value": ""}]
    arn = bde.create_export(Export=spec("api-tags"), ResourceTags=tags)["ExportArn"]
    assert bde.list_tags_for_resource(ResourceArn=arn)["ResourceTags"] == tags
    bde.tag_resource(
        ResourceArn=arn,
        ResourceTags=[{"Key": "team", "Value": "platform"}, {"Key": "cost", "Value": "42"}],
    )
    assert bde.list_tags_for_resource(ResourceArn=arn)["ResourceTags"] == [
        {"Key": "team", "Value": "platform"},
        {"Key": "env", "Value": ""},
        {"Key": "cost", "Value": "42"},
    ]
    bde.untag_resource(ResourceArn=arn, ResourceTagKeys=["env", "not-there"])
    first = bde.list_tags_for_resource(ResourceArn=arn, MaxResults=1)
    assert first["ResourceTags"] == [{"Key": "team", "Value": "platform"}]
    rest = bde.list_tags_for_resource(ResourceArn=arn, NextToken=first["NextToken"])
    assert rest["ResourceTags"] == [{"Key": "cost", "Value": "42"}]
    assert "NextToken" not in rest


def test_accounts_see_only_their_own_exports(client: Callable[..., Any]) -> None:
    a = client("bcm-data-exports", access_key="111111111111")
    b = client("bcm-data-exports", access_key="222222222222")
    arn_a = a.create_export(Export=spec("shared-name"))["ExportArn"]
    assert ":111111111111:" in arn_a
    assert [e["ExportArn"] for e in b.list_exports()["Exports"]] == []
    missing = error(b.get_export, ExportArn=arn_a)
    assert (missing["Code"], missing["ResourceId"]) == ("ResourceNotFoundException", arn_a)
    for call, kwargs in (
        (b.list_executions, {"ExportArn": arn_a}),
        (b.list_tags_for_resource, {"ResourceArn": arn_a}),
        (b.tag_resource, {"ResourceArn": arn_a, "ResourceTags": [{"Key": "k", "Value": "v"}]}),
        (b.update_export, {"ExportArn": arn_a, "Export": spec("shared-name")}),
    ):
        assert error(call, **kwargs)["Code"] == "ResourceNotFoundException"
    arn_b = b.create_export(Export=spec("shared-name"))["ExportArn"]
    assert arn_b != arn_a and ":222222222222:" in arn_b
    b.delete_export(ExportArn=arn_a)  # idempotent no-op for b; a's export is untouched
    assert a.get_export(ExportArn=arn_a)["Export"]["Name"] == "shared-name"
    assert [e["ExportArn"] for e in a.list_exports()["Exports"]] == [arn_a]
    assert [e["ExportArn"] for e in b.list_exports()["Exports"]] == [arn_b]


def test_focus_export_round_trip(bde: Any) -> None:
    body = spec(
        "api-focus",
        **{
            "DataQuery.QueryStatement": FOCUS_QUERY,
            "DataQuery.TableConfigurations": {"FOCUS_1_2_AWS": {"TIME_GRANULARITY": "DAILY"}},
        },
    )
    arn = bde.create_export(Export=body)["ExportArn"]
    assert bde.get_export(ExportArn=arn)["Export"]["DataQuery"] == body["DataQuery"]
    bde.delete_export(ExportArn=arn)


def test_csv_gzip_export_is_accepted(bde: Any) -> None:
    body = spec(
        "api-csv",
        **{
            "DataQuery.QueryStatement": CUR_QUERY,
            "DestinationConfigurations.S3Destination.S3OutputConfigurations": output(
                Format="TEXT_OR_CSV", Compression="GZIP"
            ),
        },
    )
    arn = bde.create_export(Export=body)["ExportArn"]
    got = bde.get_export(ExportArn=arn)["Export"]["DestinationConfigurations"]["S3Destination"]
    assert got["S3OutputConfigurations"]["Format"] == "TEXT_OR_CSV"
    bde.delete_export(ExportArn=arn)
