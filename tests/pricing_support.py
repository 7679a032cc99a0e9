"""Shared by tests/test_pricing.py: reading GetProducts' answers and the bill's rates."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

USAGE = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")  # usage at a public rate
M5_LARGE = [  # Linux m5.large instance hours in us-east-1
    {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "m5.large"},
    {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
    {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Linux"},
    {"Type": "TERM_MATCH", "Field": "capacitystatus", "Value": "Used"},
]


def billed_rows(table: Any) -> dict[str, dict[str, Any]]:
    """A delivered CUR 2.0 file's usage rows at a public rate, one per SKU (the rate
    checked to be the same on every row of the SKU)."""
    found: dict[str, dict[str, Any]] = {}
    for row in table.to_pylist():
        if row["line_item_line_item_type"] not in USAGE or not row["product_sku"]:
            continue
        seen = found.setdefault(row["product_sku"], row)
        assert seen["pricing_public_on_demand_rate"] == row["pricing_public_on_demand_rate"]
    return found


def products(client: Any, service: str, size: int = 100, **request: Any) -> list[dict[str, Any]]:
    """Every product GetProducts answers (all pages), parsed."""
    out: list[dict[str, Any]] = []
    token = None
    while True:
        page = client.get_products(
            ServiceCode=service,
            MaxResults=size,
            **request,
            **({"NextToken": token} if token else {}),
        )
        assert page["FormatVersion"] == "aws_v1"
        out += [json.loads(item) for item in page["PriceList"]]
        token = page.get("NextToken")
        if not token:
            return out


def dimension(doc: dict[str, Any]) -> dict[str, Any]:
    """The one on-demand price dimension of a product."""
    (offer,) = doc["terms"]["OnDemand"].values()
    (found,) = offer["priceDimensions"].values()
    return dict(found)


def usd(doc: dict[str, Any]) -> float:
    return float(dimension(doc)["pricePerUnit"]["USD"])


def code_of(call: Any, **request: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**request)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500
    return str(caught.value.response["Error"]["Code"])


def term(kind: str, field: str, value: str) -> dict[str, str]:
    return {"Type": kind, "Field": field, "Value": value}


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        return bytes(resp.read())


def m5_sku(docs: dict[str, dict[str, Any]]) -> str:
    return next(
        s
        for s, d in docs.items()
        if d["product"]["attributes"]["usagetype"] == "BoxUsage:m5.large"
        and d["product"]["attributes"]["operatingSystem"] == "Linux"
    )
