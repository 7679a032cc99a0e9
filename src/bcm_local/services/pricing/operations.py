"""The `pricing` operations (AWS Price List API): one function per AWS operation,
registered in OPERATIONS. Input is already validated against the model; every answer is
read from the bill's price list (offers.py over bcm_local.billing.prices) and paged by
paging.py."""

from __future__ import annotations

from typing import Any

import orjson

from bcm_local.runtime import Context
from bcm_local.services.pricing import files, lists, offers, paging
from bcm_local.services.pricing.filters import compile_filters
from bcm_local.services.registry import Handler

Result = dict[str, Any]


def describe_services(
    ctx: Context,
    ServiceCode: str | None = None,
    FormatVersion: str | None = None,
    NextToken: str | None = None,
    MaxResults: int | None = None,
) -> Result:
    version = offers.format_version(FormatVersion)
    every = offers.offers(ctx)
    codes = [ServiceCode] if ServiceCode else list(every)
    services = [
        {"ServiceCode": code, "AttributeNames": offers.attribute_names(offers.service(ctx, code))}
        for code in codes
    ]
    request = {"ServiceCode": ServiceCode, "FormatVersion": version}
    page, token = paging.page(ctx, "DescribeServices", request, services, NextToken, MaxResults)
    return {"Services": page, "FormatVersion": version, "NextToken": token}


def get_attribute_values(
    ctx: Context,
    ServiceCode: str,
    AttributeName: str,
    NextToken: str | None = None,
    MaxResults: int | None = None,
) -> Result:
    products = offers.service(ctx, ServiceCode)
    if AttributeName not in offers.attribute_names(products):
        raise offers.not_found(f"Could not find the attribute {AttributeName} of {ServiceCode}.")
    values = sorted({v for p in products for k, v in p.attributes if k == AttributeName})
    request = {"ServiceCode": ServiceCode, "AttributeName": AttributeName}
    listed = [{"Value": v} for v in values]
    page, token = paging.page(ctx, "GetAttributeValues", request, listed, NextToken, MaxResults)
    return {"AttributeValues": page, "NextToken": token}


def get_products(
    ctx: Context,
    ServiceCode: str,
    Filters: list[dict[str, Any]] | None = None,
    FormatVersion: str | None = None,
    NextToken: str | None = None,
    MaxResults: int | None = None,
) -> Result:
    version = offers.format_version(FormatVersion)
    test = compile_filters(Filters)
    chosen = [p for p in offers.service(ctx, ServiceCode) if test(p)]
    request = {"ServiceCode": ServiceCode, "Filters": Filters or [], "FormatVersion": version}
    page, token = paging.page(ctx, "GetProducts", request, chosen, NextToken, MaxResults)
    publication = offers.current(ctx)
    items = [orjson.dumps(offers.document(p, publication)).decode() for p in page]
    return {"FormatVersion": version, "PriceList": items, "NextToken": token}


def list_price_lists(
    ctx: Context,
    ServiceCode: str,
    EffectiveDate: object,
    CurrencyCode: str,
    RegionCode: str | None = None,
    NextToken: str | None = None,
    MaxResults: int | None = None,
) -> Result:
    effective = lists.moment(EffectiveDate)
    found = lists.price_lists(ctx, ServiceCode, effective, CurrencyCode, RegionCode)
    request = {
        "ServiceCode": ServiceCode,
        "EffectiveDate": effective.isoformat(),
        "CurrencyCode": CurrencyCode,
        "RegionCode": RegionCode,
    }
    listed = [p.element() for p in found]
    page, token = paging.page(ctx, "ListPriceLists", request, listed, NextToken, MaxResults)
    return {"PriceLists": page, "NextToken": token}


def get_price_list_file_url(ctx: Context, PriceListArn: str, FileFormat: str) -> Result:
    file_format = lists.file_format(FileFormat)
    return {"Url": files.url(ctx, lists.find(ctx, PriceListArn), file_format)}


OPERATIONS: dict[str, Handler] = {
    "DescribeServices": describe_services,
    "GetAttributeValues": get_attribute_values,
    "GetProducts": get_products,
    "ListPriceLists": list_price_lists,
    "GetPriceListFileUrl": get_price_list_file_url,
}
