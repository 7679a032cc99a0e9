"""The Price List API (`pricing`) on a real server, checked against the bill it prices: a
CUR 2.0 export delivered to the emulated S3 and read back (tests/ce_support.py), so every
rate the API quotes is compared with the rate the bill charged, not with itself."""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.config import Config

from bcm_local.testing import ServerProcess
from tests.ce_support import ACCOUNT, BUCKET, Delivered
from tests.conftest import NO_RETRY, make_client, run_cli
from tests.pricing_support import (
    M5_LARGE,
    billed_rows,
    code_of,
    dimension,
    download,
    m5_sku,
    products,
    term,
    usd,
)

NOW = "2026-05-27T12:00:00Z"
ENV = {"BCM_LOCAL_NOW": NOW, "BCM_LOCAL_BILLING_BACKFILL_MONTHS": "1"}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(env=ENV) as proc:
        yield proc


@pytest.fixture(scope="module")
def delivered(server: ServerProcess) -> Delivered:
    return Delivered(server)


@pytest.fixture(scope="module")
def pricing(server: ServerProcess) -> Any:
    return make_client(server.endpoint, "pricing", ACCOUNT)


@pytest.fixture(scope="module")
def billed(delivered: Delivered) -> dict[str, dict[str, Any]]:
    return billed_rows(delivered.table)


def own_bucket(row: dict[str, Any]) -> bool:
    return bool(row["line_item_resource_id"] == BUCKET)


def test_every_rate_on_the_bill_is_the_price_list_rate(
    pricing: Any, billed: dict[str, dict[str, Any]]
) -> None:
    services = {row["product_servicecode"] for row in billed.values()}
    assert {"AmazonEC2", "AmazonRDS", "AmazonS3", "AWSDataTransfer", "AmazonBedrock"} <= services
    listed = {d["product"]["sku"]: d for code in services for d in products(pricing, code)}
    assert len(billed) >= 30  # every meter of the default scenario, its regions and types
    for sku, row in billed.items():
        doc = listed[sku]
        attributes = doc["product"]["attributes"]
        assert usd(doc) == float(row["pricing_public_on_demand_rate"]), sku
        assert dimension(doc)["unit"] == row["pricing_unit"]
        assert dimension(doc)["rateCode"] == row["pricing_rate_code"]
        # reserved usage says what covered it; the emulator's own bucket names itself
        if row["line_item_line_item_type"] != "DiscountedUsage" and not own_bucket(row):
            assert dimension(doc)["description"] == row["line_item_line_item_description"]
        assert doc["serviceCode"] == attributes["servicecode"] == row["product_servicecode"]
        assert attributes["usagetype"] == row["line_item_usage_type"]
        assert attributes["operation"] == row["line_item_operation"]
        assert attributes["regionCode"] == row["product_region_code"]
        assert attributes["location"] == row["product_location"]
        assert doc["product"]["productFamily"] == row["product_product_family"]


def test_one_instance_type_reconciles_with_the_bill(
    pricing: Any, billed: dict[str, dict[str, Any]]
) -> None:
    (doc,) = products(pricing, "AmazonEC2", Filters=M5_LARGE)
    row = billed[doc["product"]["sku"]]
    assert row["product_instance_type"] == "m5.large"
    assert usd(doc) == float(row["pricing_public_on_demand_rate"]) == 0.096
    assert dimension(doc)["description"] == "$0.096 per On Demand Linux m5.large Instance Hour"
    assert doc["version"] == "20260501000000"
    assert doc["publicationDate"] == "2026-05-01T00:00:00Z"
    attributes = doc["product"]["attributes"]
    assert (attributes["vcpu"], attributes["memory"]) == ("2", "8 GiB")


def test_filters_of_every_type(pricing: Any, billed: dict[str, dict[str, Any]]) -> None:
    eu = [
        term("EQUALS", "location", "Europe (Ireland)"),
        term("EQUALS", "instanceType", "c5.xlarge"),
        term("EQUALS", "operatingSystem", "Linux"),
        term("EQUALS", "capacitystatus", "Used"),
    ]
    (doc,) = products(pricing, "AmazonEC2", Filters=eu)
    assert usd(doc) == float(billed[doc["product"]["sku"]]["pricing_public_on_demand_rate"])
    assert usd(doc) == round(0.17 * 1.11, 10)  # the catalog's rate, eu-west-1's multiplier

    m5 = products(pricing, "AmazonEC2", Filters=[term("CONTAINS", "usagetype", "BoxUsage:m5.")])
    assert all("BoxUsage:m5." in d["product"]["attributes"]["usagetype"] for d in m5)
    types = {d["product"]["attributes"]["instanceType"] for d in m5}
    assert types == {"m5.large", "m5.xlarge", "m5.2xlarge"}
    assert len(m5) == 3 * 2 * 7  # three sizes, Linux and Windows, seven regions

    two = [term("ANY_OF", "instanceType", "m5.large, t3.micro"), *M5_LARGE[1:]]
    assert sorted(usd(d) for d in products(pricing, "AmazonEC2", Filters=two)) == [0.0104, 0.096]

    regions = pricing.get_attribute_values(ServiceCode="AmazonS3", AttributeName="regionCode")
    others = ",".join(v["Value"] for v in regions["AttributeValues"] if v["Value"] != "us-west-2")
    oregon = products(pricing, "AmazonS3", Filters=[term("NONE_OF", "regionCode", others)])
    assert {d["product"]["attributes"]["regionCode"] for d in oregon} == {"us-west-2"}
    rates = {d["product"]["attributes"]["usagetype"]: usd(d) for d in oregon}
    assert rates == {
        "USW2-TimedStorage-ByteHrs": 0.023,
        "USW2-Requests-Tier1": 0.000005,
        "USW2-Requests-Tier2": 0.0000004,
    }
    for d in oregon:  # the scenario's us-west-2 data lake is billed at these rates
        row = billed[d["product"]["sku"]]
        assert usd(d) == float(row["pricing_public_on_demand_rate"])

    nat = products(
        pricing, "AmazonEC2", Filters=[term("TERM_MATCH", "productFamily", "NAT Gateway")]
    )
    assert len(nat) == 2 * 7  # hours and bytes in every region
    by_code = [term("TERM_MATCH", "ServiceCode", "AmazonS3")]
    assert len(products(pricing, "AmazonS3", Filters=by_code)) == 3 * 7
    assert (
        products(pricing, "AmazonS3", Filters=[term("TERM_MATCH", "ServiceCode", "AmazonEC2")])
        == []
    )
    assert products(pricing, "AmazonS3", Filters=[term("TERM_MATCH", "noSuchAttribute", "x")]) == []
    bad = [term("ANY_OF", "instanceType", "m5.large,,t3.micro")]
    assert code_of(pricing.get_products, ServiceCode="AmazonEC2", Filters=bad) == (
        "InvalidParameterException"
    )


def test_paging(pricing: Any) -> None:
    whole = [d["product"]["sku"] for d in products(pricing, "AmazonEC2")]
    assert [d["product"]["sku"] for d in products(pricing, "AmazonEC2", size=7)] == whole
    types = pricing.get_attribute_values(ServiceCode="AmazonEC2", AttributeName="instanceType")
    count = len(types["AttributeValues"])
    # instance hours (Linux, Windows) and idle reservations of each type, gp3 and gp2
    # volumes, NAT gateway hours and bytes, in each of seven regions
    assert len(whole) == len(set(whole)) == (count * 2 + count + 2 + 2) * 7

    first = pricing.get_products(ServiceCode="AmazonEC2", MaxResults=10)
    more = pricing.get_products(
        ServiceCode="AmazonEC2", MaxResults=30, NextToken=first["NextToken"]
    )
    assert [json.loads(x)["product"]["sku"] for x in more["PriceList"]] == whole[10:40]
    other = {"ServiceCode": "AmazonEC2", "Filters": M5_LARGE, "NextToken": first["NextToken"]}
    assert code_of(pricing.get_products, **other) == "InvalidNextTokenException"
    forged = {"ServiceCode": "AmazonEC2", "NextToken": first["NextToken"][:-4] + "AAA="}
    assert code_of(pricing.get_products, **forged) == "InvalidNextTokenException"

    values, token = [], None
    while True:
        page = pricing.get_attribute_values(
            ServiceCode="AmazonEC2",
            AttributeName="instanceType",
            MaxResults=5,
            **({"NextToken": token} if token else {}),
        )
        values += page["AttributeValues"]
        token = page.get("NextToken")
        if not token:
            break
    assert values == types["AttributeValues"] and count == 17
    assert [v["Value"] for v in values] == sorted(v["Value"] for v in values)

    services, token = [], None
    while True:
        page = pricing.describe_services(MaxResults=4, **({"NextToken": token} if token else {}))
        services += [s["ServiceCode"] for s in page["Services"]]
        token = page.get("NextToken")
        if not token:
            break
    assert services == [s["ServiceCode"] for s in pricing.describe_services()["Services"]]
    assert {"AmazonEC2", "AmazonRDS", "AmazonS3", "AWSDataTransfer", "awskms"} <= set(services)
    (ec2,) = pricing.describe_services(ServiceCode="AmazonEC2")["Services"]
    assert {"instanceType", "operatingSystem", "regionCode", "usagetype"} <= set(
        ec2["AttributeNames"]
    )


def test_a_token_expires_with_the_next_publication() -> None:
    """A server whose clock reaches June 1st two seconds after it starts."""
    env = {"BCM_LOCAL_NOW": "2026-05-31T23:59:58Z"}
    with ServerProcess(env=env) as proc, ServerProcess(env=ENV) as other:
        client = make_client(proc.endpoint, "pricing", ACCOUNT)
        page = client.get_products(ServiceCode="AmazonRDS", MaxResults=5)
        # the same scenario gives the same products and prices in another process
        twin = make_client(other.endpoint, "pricing", ACCOUNT)
        assert (
            twin.get_products(ServiceCode="AmazonRDS", MaxResults=5)["PriceList"]
            == page["PriceList"]
        )
        far = datetime(2030, 1, 1, tzinfo=UTC)
        deadline = time.monotonic() + 30
        while True:
            (found,) = client.list_price_lists(
                ServiceCode="AmazonRDS",
                EffectiveDate=far,
                CurrencyCode="USD",
                RegionCode="us-east-1",
            )["PriceLists"]
            if "/20260601000000/" in found["PriceListArn"] or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert found["PriceListArn"].endswith("/AmazonRDS/USD/20260601000000/us-east-1")
        again = {"ServiceCode": "AmazonRDS", "MaxResults": 5, "NextToken": page["NextToken"]}
        assert code_of(client.get_products, **again) == "ExpiredNextTokenException"
        fresh = json.loads(
            client.get_products(ServiceCode="AmazonRDS", MaxResults=5)["PriceList"][0]
        )
        assert (fresh["version"], fresh["publicationDate"]) == (
            "20260601000000",
            "2026-06-01T00:00:00Z",
        )


def test_price_list_files_hold_the_products(pricing: Any, server: ServerProcess) -> None:
    now = datetime(2026, 5, 27, 12, tzinfo=UTC)
    listed = pricing.list_price_lists(
        ServiceCode="AmazonEC2", EffectiveDate=now, CurrencyCode="USD"
    )
    regions = pricing.get_attribute_values(ServiceCode="AmazonEC2", AttributeName="regionCode")
    assert [p["RegionCode"] for p in listed["PriceLists"]] == [
        v["Value"] for v in regions["AttributeValues"]
    ]
    arn = "arn:aws:pricing:::price-list/aws/AmazonEC2/USD/20260501000000/us-east-1"
    assert arn in [p["PriceListArn"] for p in listed["PriceLists"]]
    assert all(p["FileFormats"] == ["json", "csv"] for p in listed["PriceLists"])

    url = pricing.get_price_list_file_url(PriceListArn=arn, FileFormat="json")["Url"]
    assert url.startswith(server.endpoint + "/")
    offer = json.loads(download(url))
    assert (offer["offerCode"], offer["version"]) == ("AmazonEC2", "20260501000000")
    region = [term("TERM_MATCH", "regionCode", "us-east-1")]
    docs = {d["product"]["sku"]: d for d in products(pricing, "AmazonEC2", Filters=region)}
    assert set(offer["products"]) == set(docs) and len(docs) == 55
    for sku, doc in docs.items():
        assert offer["products"][sku] == doc["product"]
        assert offer["terms"]["OnDemand"][sku] == doc["terms"]["OnDemand"]

    csv_url = pricing.get_price_list_file_url(PriceListArn=arn, FileFormat="csv")["Url"]
    lines = download(csv_url).decode().splitlines()
    assert lines[3] == '"Version","20260501000000"'
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[5:]))))
    assert {r["SKU"]: float(r["PricePerUnit"]) for r in rows} == {
        s: usd(d) for s, d in docs.items()
    }
    assert {r["instanceType"] for r in rows if r["SKU"] == m5_sku(docs)} == {"m5.large"}

    april = pricing.list_price_lists(
        ServiceCode="AmazonEC2",
        EffectiveDate=datetime(2026, 4, 15, tzinfo=UTC),
        CurrencyCode="USD",
        RegionCode="us-east-1",
    )["PriceLists"][0]["PriceListArn"]
    assert april.endswith("/20260401000000/us-east-1")
    old = json.loads(
        download(pricing.get_price_list_file_url(PriceListArn=april, FileFormat="JSON")["Url"])
    )
    assert old["publicationDate"] == "2026-04-01T00:00:00Z" and old["products"] == offer["products"]

    later = datetime(2027, 1, 1, tzinfo=UTC)
    future = pricing.list_price_lists(
        ServiceCode="AmazonEC2", EffectiveDate=later, CurrencyCode="USD"
    )
    assert future["PriceLists"] == listed["PriceLists"]  # nothing newer than the current one
    assert (
        pricing.list_price_lists(ServiceCode="AmazonEC2", EffectiveDate=now, CurrencyCode="EUR")[
            "PriceLists"
        ]
        == []
    )
    nowhere = {
        "ServiceCode": "AmazonEC2",
        "EffectiveDate": now,
        "CurrencyCode": "USD",
        "RegionCode": "mars-1",
    }
    assert pricing.list_price_lists(**nowhere)["PriceLists"] == []
    with pytest.raises(urllib.error.HTTPError) as missing:
        download(url.replace("20260501000000", "20260701000000"))
    assert missing.value.code == 404


def test_errors_are_the_models(pricing: Any, server: ServerProcess) -> None:
    assert code_of(pricing.get_products, ServiceCode="NoSuchService") == "NotFoundException"
    assert code_of(pricing.get_products, ServiceCode="") == "InvalidParameterException"
    assert code_of(pricing.get_products, ServiceCode="AmazonEC2", FormatVersion="aws_v2") == (
        "InvalidParameterException"
    )
    assert code_of(pricing.describe_services, ServiceCode="NoSuchService") == "NotFoundException"
    unknown = {"ServiceCode": "AmazonEC2", "AttributeName": "noSuchAttribute"}
    assert code_of(pricing.get_attribute_values, **unknown) == "NotFoundException"
    now = datetime(2026, 5, 27, tzinfo=UTC)
    nope = {"ServiceCode": "NoSuchService", "EffectiveDate": now, "CurrencyCode": "USD"}
    assert code_of(pricing.list_price_lists, **nope) == "ResourceNotFoundException"
    arn = "arn:aws:pricing:::price-list/aws/AmazonEC2/USD/20260501000000/us-east-1"
    bad_format = {"PriceListArn": arn, "FileFormat": "xml"}
    assert code_of(pricing.get_price_list_file_url, **bad_format) == "InvalidParameterException"
    for wrong in (
        arn.replace("202605", "202607"),
        arn.replace("us-east-1", "mars-1"),
        arn.replace("AmazonEC2", "NoSuchService"),
        arn.replace("01000000", "02000000"),
    ):
        unknown_arn = {"PriceListArn": wrong, "FileFormat": "json"}
        assert (
            code_of(pricing.get_price_list_file_url, **unknown_arn) == "ResourceNotFoundException"
        )
    # what botocore would refuse before sending, sent anyway
    unchecked = make_client(
        server.endpoint,
        "pricing",
        ACCOUNT,
        config=NO_RETRY.merge(Config(parameter_validation=False)),
    )
    assert code_of(unchecked.get_products, ServiceCode="AmazonEC2", MaxResults=0) == (
        "InvalidParameterException"
    )
    assert code_of(unchecked.get_products, MaxResults=5) == "InvalidParameterException"
    wrong_type = {
        "ServiceCode": "AmazonEC2",
        "Filters": [{"Type": "LIKE", "Field": "x", "Value": "y"}],
    }
    assert code_of(unchecked.get_products, **wrong_type) == "InvalidParameterException"


def test_the_aws_cli_reads_the_bills_rate(
    server: ServerProcess, billed: dict[str, dict[str, Any]]
) -> None:
    filters = [f"Type={f['Type']},Field={f['Field']},Value={f['Value']}" for f in M5_LARGE]
    out = run_cli(
        server.endpoint,
        "pricing",
        "get-products",
        "--service-code",
        "AmazonEC2",
        "--filters",
        *filters,
        "--region",
        "us-east-1",
    )
    (doc,) = [json.loads(item) for item in out["PriceList"]]
    row = billed[doc["product"]["sku"]]
    assert usd(doc) == float(row["pricing_public_on_demand_rate"]) == 0.096


def test_disabled_pricing_answers_like_an_unknown_service() -> None:
    with ServerProcess(env={**ENV, "BCM_LOCAL_PRICING_ENABLED": "false"}) as proc:
        assert proc.health()["services"]["pricing"] == "disabled"
        client = make_client(proc.endpoint, "pricing", ACCOUNT)
        assert code_of(client.describe_services) == "UnknownOperationException"
        path = "/_bcm_local/pricing/offers/v1.0/aws/AmazonEC2/20260501000000/us-east-1/index.json"
        with pytest.raises(urllib.error.HTTPError) as missing:
            download(proc.endpoint + path)
        assert missing.value.code == 404
