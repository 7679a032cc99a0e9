"""S3 buckets over boto3: create/head/list/delete/location, AWS's errors, accounts, addressing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from s3_support import bucket_name, error_code, new_bucket, raw, xml_code

from bcm_local.testing import ServerProcess


@pytest.fixture(scope="module")
def s3(client: Callable[..., Any]) -> Any:
    return client("s3")


@pytest.fixture(scope="module")
def other(client: Callable[..., Any]) -> Any:
    return client("s3", access_key="222222222222")


def test_create_head_list_delete(s3: Any) -> None:
    name = bucket_name()
    created = s3.create_bucket(Bucket=name)
    assert created["Location"] == f"/{name}"
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    listed = s3.list_buckets()
    assert name in [b["Name"] for b in listed["Buckets"]]
    assert listed["Owner"]["ID"]
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=name)
    assert error_code(exc) == ("404", 404)


def test_location_constraint(client: Callable[..., Any]) -> None:
    s3 = client("s3", region_name="eu-west-1")
    name = bucket_name()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert s3.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"
    with pytest.raises(ClientError) as exc:  # the owner re-creating outside us-east-1
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert error_code(exc) == ("BucketAlreadyOwnedByYou", 409)
    with pytest.raises(ClientError) as exc:  # no constraint from a eu-west-1 client
        s3.create_bucket(Bucket=bucket_name())
    assert error_code(exc) == ("IllegalLocationConstraintException", 400)


def test_us_east_1_recreate_by_owner_is_ok(s3: Any) -> None:
    name = new_bucket(s3)
    assert s3.create_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_invalid_location_constraint(s3: Any) -> None:
    for constraint in ("us-east-1", "mars-1"):
        with pytest.raises(ClientError) as exc:
            s3.create_bucket(
                Bucket=bucket_name(), CreateBucketConfiguration={"LocationConstraint": constraint}
            )
        assert error_code(exc) == ("InvalidLocationConstraint", 400)


@pytest.mark.parametrize(
    "name", ["ab", "Upper-case", "under_score", "a" * 64, "192.168.1.1", "dots..dots", "-dash"]
)
def test_invalid_bucket_names(server: ServerProcess, name: str) -> None:
    status, _, body = raw(server.endpoint, "PUT", f"/{name}")
    assert (status, xml_code(body)) == (400, "InvalidBucketName")


def test_bucket_errors(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=bucket_name("missing"))
    assert error_code(exc) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_location(Bucket=bucket_name("missing"))
    assert error_code(exc) == ("NoSuchBucket", 404)
    name = new_bucket(s3)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=name)
    assert error_code(exc) == ("BucketNotEmpty", 409)


def test_accounts_are_isolated(s3: Any, other: Any) -> None:
    name = new_bucket(s3)
    s3.put_object(Bucket=name, Key="secret", Body=b"mine")
    assert name not in [b["Name"] for b in other.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as exc:  # names are global
        other.create_bucket(Bucket=name)
    assert error_code(exc) == ("BucketAlreadyExists", 409)
    calls = [
        lambda: other.get_object(Bucket=name, Key="secret"),
        lambda: other.put_object(Bucket=name, Key="x", Body=b""),
        lambda: other.list_objects_v2(Bucket=name),
        lambda: other.delete_object(Bucket=name, Key="secret"),
        lambda: other.delete_bucket(Bucket=name),
        lambda: other.get_bucket_location(Bucket=name),
        lambda: other.copy_object(Bucket=name, Key="c", CopySource=f"{name}/secret"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:
        other.head_bucket(Bucket=name)
    assert error_code(exc) == ("403", 403)
    mine = new_bucket(other)  # copying another account's object into one's own bucket
    with pytest.raises(ClientError) as exc:
        other.copy_object(Bucket=mine, Key="c", CopySource=f"{name}/secret")
    assert error_code(exc) == ("AccessDenied", 403)
    assert s3.get_object(Bucket=name, Key="secret")["Body"].read() == b"mine"


def test_defaults_clients_read(s3: Any) -> None:
    name = new_bucket(s3)
    assert "Status" not in s3.get_bucket_versioning(Bucket=name)
    acl = s3.get_bucket_acl(Bucket=name)
    assert acl["Grants"][0]["Permission"] == "FULL_CONTROL"
    assert acl["Grants"][0]["Grantee"]["Type"] == "CanonicalUser"
    rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    for call, code in [
        (s3.get_bucket_policy, "NoSuchBucketPolicy"),
        (s3.get_bucket_tagging, "NoSuchTagSet"),
        (s3.get_bucket_cors, "NoSuchCORSConfiguration"),
    ]:
        with pytest.raises(ClientError) as exc:
            call(Bucket=name)
        assert error_code(exc) == (code, 404)


def test_unimplemented_operation_is_501(s3: Any) -> None:
    name = new_bucket(s3)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert error_code(exc) == ("NotImplemented", 501)


def test_every_response_has_request_ids(server: ServerProcess, s3: Any) -> None:
    name = new_bucket(s3)
    for method, path in [("GET", "/"), ("HEAD", f"/{name}"), ("GET", f"/{name}/missing")]:
        _, headers, _ = raw(server.endpoint, method, path)
        assert len(headers["x-amz-request-id"]) == 16
        assert headers["x-amz-id-2"]


def test_error_document_shape(server: ServerProcess) -> None:
    status, headers, body = raw(server.endpoint, "GET", "/no-such-bucket-here/key")
    assert status == 404
    assert headers["content-type"] == "application/xml"
    assert xml_code(body) == "NoSuchBucket"
    assert b"<RequestId>" in body and b"<BucketName>no-such-bucket-here</BucketName>" in body


def test_malformed_xml(server: ServerProcess) -> None:
    status, _, body = raw(server.endpoint, "PUT", f"/{bucket_name()}", body=b"<Create")
    assert (status, xml_code(body)) == (400, "MalformedXML")


def test_virtual_hosted_addressing(server: ServerProcess) -> None:
    # `<bucket>.localhost` may not resolve here; an HTTP proxy pointing at the server lets
    # boto3 send exactly what it sends to a virtual-hosted endpoint (Host: bucket.localhost)
    port = server.endpoint.rsplit(":", 1)[1]
    config = Config(
        s3={"addressing_style": "virtual"},
        proxies={"http": server.endpoint},
        retries={"max_attempts": 1},
    )
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://localhost:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=config,
    )
    name = bucket_name("vhost")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="dir/file.txt", Body=b"virtual")
    assert s3.get_object(Bucket=name, Key="dir/file.txt")["Body"].read() == b"virtual"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["dir/file.txt"]
    status, _, body = raw(
        server.endpoint, "GET", "/dir/file.txt", headers={"Host": f"{name}.localhost:{port}"}
    )
    assert (status, body) == (200, b"virtual")
