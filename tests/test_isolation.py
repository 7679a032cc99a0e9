"""Account isolation, operation by operation, and names that must not escape the data dir.

Account A (access key 111111111111) owns a bucket with objects and an unfinished
multipart upload, an export with tags and an execution, and a report with tags. Account
B (222222222222) then calls EVERY operation of every service against them; the tables
below are checked against the services' operation tables, so a new operation cannot be
left out. A's whole view (and the request counters of A's bucket) is unchanged after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bcm_local import settings
from bcm_local.objects.backend import s3_backend
from bcm_local.runtime import Runtime
from bcm_local.server.s3_protocol import OPERATIONS as S3_OPERATIONS
from bcm_local.services.cur.operations import OPERATIONS as CUR_OPERATIONS
from bcm_local.services.dataexports.operations import OPERATIONS as BDE_OPERATIONS
from bcm_local.testing import ServerProcess
from bcm_local.wire import model
from tests.conftest import make_client
from tests.cur_support import definition
from tests.dataexports_support import spec

A, B = "111111111111", "222222222222"
A_BUCKET, B_BUCKET = "iso-a-bucket", "iso-b-bucket"
A_ARN = f"arn:aws:bcm-data-exports:us-east-1:{A}:export/a-export"


class World:
    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.connect()

    def connect(self) -> None:
        endpoint = self.server.endpoint
        self.a = {s: make_client(endpoint, s, A) for s in ("s3", "bcm-data-exports", "cur")}
        self.b = {s: make_client(endpoint, s, B) for s in ("s3", "bcm-data-exports", "cur")}

    def build(self) -> None:
        s3, bde, cur = self.a["s3"], self.a["bcm-data-exports"], self.a["cur"]
        s3.create_bucket(Bucket=A_BUCKET)
        s3.put_object(Bucket=A_BUCKET, Key="secret.txt", Body=b"A's secret")
        self.upload = s3.create_multipart_upload(Bucket=A_BUCKET, Key="mpu")["UploadId"]
        s3.upload_part(Bucket=A_BUCKET, Key="mpu", UploadId=self.upload, PartNumber=1, Body=b"p")
        export = spec("a-export", **{"DestinationConfigurations.S3Destination.S3Bucket": A_BUCKET})
        tags = [{"Key": "owner", "Value": "a"}]
        assert bde.create_export(Export=export, ResourceTags=tags)["ExportArn"] == A_ARN
        self.execution = bde.list_executions(ExportArn=A_ARN)["Executions"][0]["ExecutionId"]
        report = definition("a-report", S3Bucket=A_BUCKET)
        cur.put_report_definition(ReportDefinition=report, Tags=tags)
        self.b["s3"].create_bucket(Bucket=B_BUCKET)
        self.b_upload = self.b["s3"].create_multipart_upload(Bucket=B_BUCKET, Key="k")["UploadId"]

    def view_of_a(self) -> dict[str, Any]:
        s3, bde, cur = self.a["s3"], self.a["bcm-data-exports"], self.a["cur"]
        objects = s3.list_objects_v2(Bucket=A_BUCKET)["Contents"]
        return {
            "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"]],
            "objects": [(o["Key"], o["ETag"], o["Size"]) for o in objects],
            "bytes": {
                o["Key"]: s3.get_object(Bucket=A_BUCKET, Key=o["Key"])["Body"].read()
                for o in objects
            },
            "uploads": s3.list_multipart_uploads(Bucket=A_BUCKET)["Uploads"],
            "parts": s3.list_parts(Bucket=A_BUCKET, Key="mpu", UploadId=self.upload)["Parts"],
            "exports": bde.list_exports()["Exports"],
            "export": bde.get_export(ExportArn=A_ARN),
            "executions": bde.list_executions(ExportArn=A_ARN)["Executions"],
            "tags": bde.list_tags_for_resource(ResourceArn=A_ARN)["ResourceTags"],
            "reports": cur.describe_report_definitions()["ReportDefinitions"],
            "report-tags": cur.list_tags_for_resource(ReportName="a-report")["Tags"],
        }


def _strip(view: dict[str, Any]) -> dict[str, Any]:
    """ResponseMetadata (request ids, dates) differ from call to call."""
    if isinstance(view, dict):
        return {k: _strip(v) for k, v in view.items() if k != "ResponseMetadata"}
    return view


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with ServerProcess(data_dir=tmp_path_factory.mktemp("iso")) as server:
        w = World(server)
        w.build()
        yield w


def code(call: Callable[[], Any]) -> str:
    try:
        call()
    except ClientError as err:
        return str(err.response["Error"]["Code"])
    return "ok"


# op -> (call made by B, what B must get: an error code, or a check of B's own answer)
def bde_table(w: World) -> dict[str, tuple[Callable[[], Any], Any]]:
    b = w.b["bcm-data-exports"]
    mine = spec("a-export", **{"DestinationConfigurations.S3Destination.S3Bucket": A_BUCKET})
    rnf = "ResourceNotFoundException"
    return {
        "GetExport": (lambda: b.get_export(ExportArn=A_ARN), rnf),
        "UpdateExport": (lambda: b.update_export(ExportArn=A_ARN, Export=mine), rnf),
        "DeleteExport": (lambda: b.delete_export(ExportArn=A_ARN), {"ok", rnf}),
        "ListExecutions": (lambda: b.list_executions(ExportArn=A_ARN), rnf),
        "GetExecution": (lambda: b.get_execution(ExportArn=A_ARN, ExecutionId=w.execution), rnf),
        "TagResource": (
            lambda: b.tag_resource(ResourceArn=A_ARN, ResourceTags=[{"Key": "k", "Value": "v"}]),
            rnf,
        ),
        "UntagResource": (
            lambda: b.untag_resource(ResourceArn=A_ARN, ResourceTagKeys=["owner"]),
            rnf,
        ),
        "ListTagsForResource": (lambda: b.list_tags_for_resource(ResourceArn=A_ARN), rnf),
        "ListExports": (lambda: b.list_exports()["Exports"], lambda got: got == []),
        "ListTables": (lambda: b.list_tables(), "ok"),  # the catalogue: not a resource
        "GetTable": (lambda: b.get_table(TableName="COST_AND_USAGE_REPORT"), "ok"),
        # last: B's own export of the same name, delivering into A's bucket (refused)
        "CreateExport": (
            lambda: b.create_export(Export=mine)["ExportArn"],
            lambda arn: arn == A_ARN.replace(A, B),
        ),
    }


def cur_table(w: World) -> dict[str, tuple[Callable[[], Any], Any]]:
    b = w.b["cur"]
    rnf, invalid = "ResourceNotFoundException", "ValidationException"
    mine = definition("a-report", S3Bucket=A_BUCKET)
    return {
        "ModifyReportDefinition": (
            lambda: b.modify_report_definition(ReportName="a-report", ReportDefinition=mine),
            invalid,
        ),
        "DeleteReportDefinition": (
            lambda: b.delete_report_definition(ReportName="a-report"),
            invalid,
        ),
        "TagResource": (
            lambda: b.tag_resource(ReportName="a-report", Tags=[{"Key": "k", "Value": "v"}]),
            rnf,
        ),
        "UntagResource": (lambda: b.untag_resource(ReportName="a-report", TagKeys=["owner"]), rnf),
        "ListTagsForResource": (lambda: b.list_tags_for_resource(ReportName="a-report"), rnf),
        "DescribeReportDefinitions": (
            lambda: b.describe_report_definitions()["ReportDefinitions"],
            lambda got: got == [],
        ),
        "PutReportDefinition": (lambda: b.put_report_definition(ReportDefinition=mine), "ok"),
    }


def s3_table(w: World) -> dict[str, tuple[Callable[[], Any], Any]]:
    b, key, up = w.b["s3"], "secret.txt", w.upload
    denied = "AccessDenied"
    src = f"{A_BUCKET}/{key}"
    table: dict[str, tuple[Callable[[], Any], Any]] = {
        f"GetBucket{sub}": (lambda m=f"get_bucket_{snake}": getattr(b, m)(Bucket=A_BUCKET), denied)
        for sub, snake in [
            ("Location", "location"), ("Acl", "acl"), ("Versioning", "versioning"),
            ("Encryption", "encryption"), ("OwnershipControls", "ownership_controls"),
            ("RequestPayment", "request_payment"), ("Logging", "logging"),
            ("AccelerateConfiguration", "accelerate_configuration"),
            ("NotificationConfiguration", "notification_configuration"),
            ("Policy", "policy"), ("Tagging", "tagging"), ("Cors", "cors"),
            ("Website", "website"), ("LifecycleConfiguration", "lifecycle_configuration"),
        ]
    }  # fmt: skip
    table.update(
        {
            "CreateBucket": (lambda: b.create_bucket(Bucket=A_BUCKET), "BucketAlreadyExists"),
            "HeadBucket": (lambda: b.head_bucket(Bucket=A_BUCKET), "403"),
            "DeleteBucket": (lambda: b.delete_bucket(Bucket=A_BUCKET), denied),
            "ListBuckets": (
                lambda: [x["Name"] for x in b.list_buckets()["Buckets"]],
                lambda names: A_BUCKET not in names,
            ),
            "GetPublicAccessBlock": (lambda: b.get_public_access_block(Bucket=A_BUCKET), denied),
            "GetObjectAcl": (lambda: b.get_object_acl(Bucket=A_BUCKET, Key=key), denied),
            "GetObjectTagging": (lambda: b.get_object_tagging(Bucket=A_BUCKET, Key=key), denied),
            "PutObject": (lambda: b.put_object(Bucket=A_BUCKET, Key=key, Body=b"B"), denied),
            "GetObject": (lambda: b.get_object(Bucket=A_BUCKET, Key=key), denied),
            "HeadObject": (lambda: b.head_object(Bucket=A_BUCKET, Key=key), "403"),
            "DeleteObject": (lambda: b.delete_object(Bucket=A_BUCKET, Key=key), denied),
            "DeleteObjects": (
                lambda: b.delete_objects(Bucket=A_BUCKET, Delete={"Objects": [{"Key": key}]}),
                denied,
            ),
            "CopyObject": (lambda: b.copy_object(Bucket=B_BUCKET, Key="c", CopySource=src), denied),
            "ListObjectsV2": (lambda: b.list_objects_v2(Bucket=A_BUCKET), denied),
            "ListObjects": (lambda: b.list_objects(Bucket=A_BUCKET), denied),
            "CreateMultipartUpload": (
                lambda: b.create_multipart_upload(Bucket=A_BUCKET, Key="mine"),
                denied,
            ),
            "UploadPart": (
                lambda: b.upload_part(
                    Bucket=A_BUCKET, Key="mpu", UploadId=up, PartNumber=2, Body=b"x"
                ),
                denied,
            ),
            "UploadPartCopy": (
                lambda: b.upload_part_copy(
                    Bucket=B_BUCKET, Key="k", UploadId=w.b_upload, PartNumber=1, CopySource=src
                ),
                denied,
            ),
            "CompleteMultipartUpload": (
                lambda: b.complete_multipart_upload(
                    Bucket=A_BUCKET,
                    Key="mpu",
                    UploadId=up,
                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]},
                ),
                denied,
            ),
            "AbortMultipartUpload": (
                lambda: b.abort_multipart_upload(Bucket=A_BUCKET, Key="mpu", UploadId=up),
                denied,
            ),
            "ListParts": (lambda: b.list_parts(Bucket=A_BUCKET, Key="mpu", UploadId=up), denied),
            "ListMultipartUploads": (lambda: b.list_multipart_uploads(Bucket=A_BUCKET), denied),
        }
    )
    return table


def run_table(table: dict[str, tuple[Callable[[], Any], Any]]) -> None:
    for operation, (call, expected) in table.items():
        if callable(expected):
            try:
                answer = call()
            except ClientError as err:
                raise AssertionError(f"{operation}: {err}") from None
            assert expected(answer), (operation, answer)
        else:
            got = code(call)
            allowed = expected if isinstance(expected, set) else {expected}
            assert got in allowed, (operation, got)


def counters(data_dir: Path) -> Any:
    runtime = Runtime(settings.load(env={}, flags={"data_dir": str(data_dir)}))
    try:
        return s3_backend(runtime).bucket_stats(A)
    finally:
        runtime.close()


def test_tables_cover_every_operation(world: World) -> None:
    assert (
        set(bde_table(world))
        == set(BDE_OPERATIONS)
        == set(model.load("bcm-data-exports").operations)
    )
    assert set(cur_table(world)) == set(CUR_OPERATIONS) == set(model.load("cur").operations)
    assert set(s3_table(world)) == set(S3_OPERATIONS)


def test_account_b_cannot_touch_account_a(world: World) -> None:
    before = _strip(world.view_of_a())
    assert world.server.data_dir is not None
    data_dir = Path(world.server.data_dir)
    world.server.stop()
    metered = counters(data_dir)
    world.server.start()
    world.connect()
    run_table(s3_table(world))
    run_table(bde_table(world))
    run_table(cur_table(world))
    world.server.stop()
    assert counters(data_dir) == metered  # B's refused requests are not billed to A
    world.server.start()
    world.connect()
    assert _strip(world.view_of_a()) == before
    # B's own export and report, aimed at A's bucket, delivered nothing there
    bde = world.b["bcm-data-exports"]
    arn = A_ARN.replace(A, B)
    [run] = bde.list_executions(ExportArn=arn)["Executions"]
    assert run["ExecutionStatus"]["StatusCode"] == "DELIVERY_FAILURE"
    assert [
        r["ReportName"] for r in world.b["cur"].describe_report_definitions()["ReportDefinitions"]
    ] == ["a-report"]


# -- names that look like paths ----------------------------------------------------------


def test_prefixes_and_names_never_leave_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    escape = tmp_path / "escape"
    traversal = "../" * 12 + str(escape).lstrip("/")
    with ServerProcess(data_dir=data) as server:
        s3 = make_client(server.endpoint, "s3")
        s3.create_bucket(Bucket="names-bucket")
        bde = make_client(server.endpoint, "bcm-data-exports")
        bde.create_export(Export=spec("paths", **{
            "DestinationConfigurations.S3Destination.S3Bucket": "names-bucket",
            "DestinationConfigurations.S3Destination.S3Prefix": traversal,
        }))  # fmt: skip
        cur = make_client(server.endpoint, "cur")
        for name in ["..", "...", "a..b"]:
            cur.put_report_definition(
                ReportDefinition=definition(name, S3Bucket="names-bucket", S3Prefix=traversal)
            )
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="names-bucket").get("Contents", [])]
        stray = [k for k in keys if not k.startswith(traversal)]
        assert keys and stray == ["aws-programmatic-access-test-object"], stray  # CUR writes it
        for key in keys:
            s3.head_object(Bucket="names-bucket", Key=key)
    assert not escape.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
