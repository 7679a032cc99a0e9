"""The Dask and Ray recipes of docs/sharded-emission.md, run as written on local clusters:
the plan (its endpoint, scale and history made small for the suite), then the engine's
block verbatim. The shards write straight into the emulator's own S3 through the
delivery sink settings; the files read back from it equal an unsharded delivery."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bcm_local.testing import ServerProcess
from tests.conftest import make_client
from tests.shards_support import CUR, HOURLY, PERIODS, assert_same_rows, manifest, unsharded

DOC = Path(__file__).resolve().parents[1] / "docs" / "sharded-emission.md"
PAYER = "000000000000"


def recipe(name: str) -> str:
    text = DOC.read_text()
    found = re.search(rf"<!-- recipe: {name} -->\n```python\n(.*?)```", text, re.S)
    assert found, name
    return found.group(1)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess() as running:
        make_client(running.endpoint, "s3", PAYER).create_bucket(Bucket="cur-bucket")
        yield running


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unsharded(tmp_path_factory.mktemp("whole"), CUR, HOURLY)


def plan(server: ServerProcess, prefix: str) -> str:
    """The plan recipe with the suite's server, the suite's scale and one closed month."""
    code = recipe("plan").replace("http://localhost:4566", server.endpoint)
    code = code.replace('"1000"', '"3"').replace('"12"', '"1"')
    code = code.replace('"2026-05-31T23:30:00Z"', '"2026-05-27T12:00:00Z"')
    return code.replace("s3://cur-bucket/exports", f"s3://cur-bucket/{prefix}")


def delivered(server: ServerProcess, prefix: str, folder: Path) -> Path:
    """The delivery's objects, downloaded under `folder` as `export/...`."""
    s3 = make_client(server.endpoint, "s3", PAYER)
    listed = s3.list_objects_v2(Bucket="cur-bucket", Prefix=f"{prefix}/")["Contents"]
    for item in listed:
        path = folder / item["Key"].removeprefix(f"{prefix}/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(s3.get_object(Bucket="cur-bucket", Key=item["Key"])["Body"].read())
    return folder


def run_recipe(server: ServerProcess, engine: str, prefix: str) -> dict[str, Any]:
    scope: dict[str, Any] = {}
    exec(plan(server, prefix) + recipe(engine), scope)
    return scope


def check(server: ServerProcess, scope: dict[str, Any], whole: Path, folder: Path) -> None:
    prefix = scope["tasks"][0].prefix
    got = delivered(server, prefix, folder)
    assert len(scope["results"]) == len(scope["tasks"]) == 16
    assert_same_rows(whole, got, "identity_line_item_id")
    for period in PERIODS:
        files = manifest(got, period)["dataFiles"]
        assert len(files) == 8 and all(f.startswith(f"s3://cur-bucket/{prefix}/") for f in files)
    assert scope["keys"][-1].endswith("BILLING_PERIOD=2026-05/export-Manifest.json")


def test_the_dask_recipe_on_a_local_cluster(
    server: ServerProcess, whole: Path, tmp_path: Path
) -> None:
    pytest.importorskip("dask.distributed")
    check(server, run_recipe(server, "dask", "dask"), whole, tmp_path)


def test_the_ray_recipe_on_a_local_ray(server: ServerProcess, whole: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    check(server, run_recipe(server, "ray", "ray"), whole, tmp_path)
