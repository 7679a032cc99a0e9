"""bcm-data-exports under concurrent clients: unique names and quotas hold without races."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import NO_RETRY
from tests.dataexports_support import FOCUS_QUERY, spec

WIDE = NO_RETRY.merge(Config(max_pool_connections=50))


def attempt(call: Callable[[], Any]) -> str:
    try:
        call()
    except ClientError as err:
        return str(err.response["Error"]["Code"])
    return "ok"


def test_fifty_concurrent_creates_of_one_name_make_one_export(client: Callable[..., Any]) -> None:
    bde = client("bcm-data-exports", access_key="202020202020", config=WIDE)
    with ThreadPoolExecutor(50) as pool:
        outcomes = list(
            pool.map(lambda _: attempt(lambda: bde.create_export(Export=spec("race"))), range(50))
        )
    assert outcomes.count("ok") == 1
    assert set(outcomes) == {"ok", "ValidationException"}
    [export] = bde.list_exports()["Exports"]
    assert export["ExportName"] == "race"
    assert len(bde.list_executions(ExportArn=export["ExportArn"])["Executions"]) == 1


def test_concurrent_creates_respect_the_quota(client: Callable[..., Any]) -> None:
    bde = client("bcm-data-exports", access_key="212121212121", config=WIDE)
    focus = {"DataQuery.QueryStatement": FOCUS_QUERY}
    with ThreadPoolExecutor(20) as pool:
        outcomes = list(
            pool.map(
                lambda i: attempt(lambda: bde.create_export(Export=spec(f"q{i}", **focus))),
                range(20),
            )
        )
    assert outcomes.count("ok") == 2
    assert set(outcomes) == {"ok", "ServiceQuotaExceededException"}
    assert len(bde.list_exports()["Exports"]) == 2


def test_reads_during_concurrent_updates_see_whole_exports(client: Callable[..., Any]) -> None:
    bde = client("bcm-data-exports", access_key="232323232323", config=WIDE)
    arn = bde.create_export(Export=spec("busy"))["ExportArn"]
    descriptions = {f"v{i}" for i in range(10)}

    def update(text: str) -> str:
        return attempt(
            lambda: bde.update_export(ExportArn=arn, Export=spec("busy", Description=text))
        )

    def read(_: int) -> str:
        return str(bde.get_export(ExportArn=arn)["Export"].get("Description", ""))

    with ThreadPoolExecutor(20) as pool:
        updates = pool.map(update, sorted(descriptions))
        reads = pool.map(read, range(20))
        assert set(updates) == {"ok"}
        assert set(reads) <= descriptions | {""}
    assert bde.get_export(ExportArn=arn)["Export"]["Description"] in descriptions
    assert len(bde.list_executions(ExportArn=arn)["Executions"]) == 11
