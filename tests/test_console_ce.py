"""The console's Cost Explorer page over HTTP, at a pinned clock: its JSON is the `ce`
service's answer, so the request it reports, sent again through boto3, gives the same
figures; bad parameters are AWS-style 400s. (The page in Chromium: test_console_browser.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from console_support import get, get_json

from bcm_local.testing import ServerProcess
from tests import ce_support as cs
from tests.conftest import make_client

ROOT = "/_bcm_local"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(env=cs.ENV) as proc:
        yield proc


def _boto_series(ce: Any, request: dict[str, Any]) -> dict[str, dict[str, float]]:
    metric = request["Metrics"][0]
    found: dict[str, dict[str, float]] = {}
    for entry in cs.all_results(ce, **request):
        for grp in entry["Groups"]:
            by = found.setdefault(grp["Keys"][0], {})
            start = entry["TimePeriod"]["Start"]
            by[start] = by.get(start, 0.0) + float(grp["Metrics"][metric]["Amount"])
    return found


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"group": "LINKED_ACCOUNT", "granularity": "DAILY", "start": "2026-05-01"},
        {"group": "TAG:team", "metric": "AmortizedCost"},
        {"group": "REGION", "filter": "SERVICE=Amazon Elastic Compute Cloud - Compute"},
        {"group": "USAGE_TYPE", "filter": "TAG:team=storefront"},
        {"group": "CC:BusinessUnit", "filter": "CC:BusinessUnit=Retail"},
    ],
)
def test_the_page_shows_what_get_cost_and_usage_answers(
    server: ServerProcess, params: dict[str, str]
) -> None:
    if "start" in params:
        params = {**params, "end": "2026-05-28"}
    data = get_json(f"{server.endpoint}{ROOT}/api/ce?{urlencode(params)}")
    request = data["request"]
    # by default: three whole months before the clock's and the clock's own (the bill's)
    if not params:
        assert request["TimePeriod"] == {"Start": "2026-03-01", "End": "2026-06-01"}
        assert request["Granularity"] == "MONTHLY" and request["Metrics"] == ["UnblendedCost"]
        assert request["GroupBy"] == [{"Type": "DIMENSION", "Key": "SERVICE"}]
    ce = make_client(server.endpoint, "ce")
    want = _boto_series(ce, request)
    assert {s["id"] for s in data["series"]} == set(want)
    for s in data["series"]:
        assert s["daily"] == [want[s["id"]].get(p, 0.0) for p in data["periods"]]
        assert s["total"] == pytest.approx(sum(want[s["id"]].values()), abs=1e-9)
    assert data["total"] == pytest.approx(sum(s["total"] for s in data["series"]), abs=1e-9)
    assert data["estimated"] == [p >= "2026-05-01" for p in data["periods"]]  # the open month
    assert "Amazon Simple Storage Service" in data["options"]["values"]["SERVICE"]
    assert "team" in data["options"]["tags"]


def test_categories_and_views_in_the_selectors(server: ServerProcess) -> None:
    """A cost category's values are group-by and filter choices; a billing view chosen on
    the page is the request's BillingViewArn, and the figures are the view's slice."""
    ce = make_client(server.endpoint, "ce", cs.ACCOUNT)
    ce.create_cost_category_definition(
        Name="Console",
        RuleVersion="CostCategoryExpression.v1",
        Rules=[{"Value": "Shop", "Rule": {"Tags": {"Key": "team", "Values": ["storefront"]}}}],
        DefaultValue="Rest",
    )
    billing = make_client(server.endpoint, "billing", cs.ACCOUNT)
    arn = billing.create_billing_view(
        name="shop only",
        sourceViews=[f"arn:aws:billing::{cs.ACCOUNT}:billingview/primary"],
        dataFilterExpression={"costCategories": {"key": "Console", "values": ["Shop"]}},
    )["arn"]
    params = {"account": cs.ACCOUNT, "start": "2026-05-01", "end": "2026-05-28"}
    whole = get_json(
        f"{server.endpoint}{ROOT}/api/ce?{urlencode({**params, 'group': 'CC:Console'})}"
    )
    assert whole["options"]["categories"]["Console"] == ["Rest", "Shop"]
    assert {s["id"] for s in whole["series"]} == {"Console$Rest", "Console$Shop"}
    assert [v["name"] for v in whole["options"]["views"]][:1] == ["Primary View"]
    assert arn in [v["arn"] for v in whole["options"]["views"]]
    query = urlencode({**params, "group": "CC:Console", "view": arn})
    viewed = get_json(f"{server.endpoint}{ROOT}/api/ce?{query}")
    assert viewed["request"]["BillingViewArn"] == arn
    assert [s["id"] for s in viewed["series"]] == ["Console$Shop"]
    shop = next(s for s in whole["series"] if s["id"] == "Console$Shop")
    assert viewed["total"] == pytest.approx(shop["total"], abs=1e-9)
    assert viewed["series"][0]["total"] == pytest.approx(
        sum(sum(v.values()) for v in _boto_series(ce, viewed["request"]).values()), abs=1e-9
    )


def test_a_filter_narrows_the_total(server: ServerProcess) -> None:
    everything = get_json(f"{server.endpoint}{ROOT}/api/ce")
    ec2 = get_json(
        f"{server.endpoint}{ROOT}/api/ce?"
        + urlencode({"filter": "SERVICE=Amazon Elastic Compute Cloud - Compute"})
    )
    assert [s["id"] for s in ec2["series"]] == ["Amazon Elastic Compute Cloud - Compute"]
    whole = next(s for s in everything["series"] if s["id"] == ec2["series"][0]["id"])
    assert ec2["series"][0]["daily"] == whole["daily"]
    assert 0 < ec2["total"] < everything["total"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"granularity": "HOURLY"}, "ValidationException"),
        ({"group": "NOPE"}, "ValidationException"),
        ({"filter": "SERVICE"}, "ValidationException"),
        ({"filter": "NOPE=1"}, "ValidationException"),
        ({"metric": "Cost"}, "ValidationException"),
        ({"start": "2026-05-10", "end": "2026-05-01"}, "ValidationException"),
        ({"start": "2025-01-01", "end": "2025-02-01"}, "DataUnavailableException"),
        ({"start": "yesterday", "end": "2026-05-01"}, "ValidationException"),
    ],
)
def test_bad_parameters_are_aws_errors(
    server: ServerProcess, params: dict[str, str], code: str
) -> None:
    status, headers, body = get(f"{server.endpoint}{ROOT}/api/ce?{urlencode(params)}")
    assert status == 400 and headers["content-type"] == "application/json"
    error = json.loads(body)
    assert error["code"] == code and error["message"]


def test_the_page_and_its_navigation(server: ServerProcess) -> None:
    status, headers, body = get(f"{server.endpoint}{ROOT}/ce")
    assert status == 200 and "text/html" in headers["content-type"]
    assert b'id="ce-chart"' in body and b"/static/ce.js" in body
    status, _, home = get(f"{server.endpoint}{ROOT}/")
    assert status == 200 and f'href="{ROOT}/ce"'.encode() in home
    status, headers, script = get(f"{server.endpoint}{ROOT}/static/ce.js")
    assert status == 200 and b"BcmChart.stacked" in script
