"""Price list files, served by the emulator itself under
`/_bcm_local/pricing/offers/v1.0/aws/<service>/<version>/<region>/index.<json|csv>` (AWS's
bulk offer file path), where GetPriceListFileUrl points.

The JSON file is AWS's offer file (formatVersion, offerCode, version, publicationDate,
`products` by SKU and `terms.OnDemand` by SKU, the same entries as GetProducts); the CSV
file is AWS's layout: five metadata lines, then one row per price dimension with the
product's attributes as columns (named as in the JSON file).
"""

from __future__ import annotations

import csv
import io
import re

import orjson

from bcm_local.runtime import DEFAULT_ACCOUNT, Context, Runtime
from bcm_local.services.pricing import lists
from bcm_local.services.pricing.offers import CURRENCY, on_demand, product_entry, usd
from bcm_local.wire.errors import AwsError
from bcm_local.wire.http import Response

PREFIX = "/_bcm_local/pricing/"
DISCLAIMER = (
    "bcm-local: the rates the emulator's synthetic bill is charged at, in AWS's price list "
    "format; not AWS's current prices."
)
_PATH = re.compile(r"^offers/v1\.0/aws/([A-Za-z0-9]+)/(\d{14})/([a-z0-9-]+)/index\.(json|csv)$")
_CSV_COLUMNS = (
    "SKU",
    "OfferTermCode",
    "RateCode",
    "TermType",
    "PriceDescription",
    "EffectiveDate",
    "StartingRange",
    "EndingRange",
    "Unit",
    "PricePerUnit",
    "Currency",
    "Product Family",
)


def url(ctx: Context, found: lists.PriceList, file_format: str) -> str:
    base = ctx.endpoint or f"http://{ctx.config.host}:{ctx.config.port}"
    return (
        f"{base}{PREFIX}offers/v1.0/aws/{found.service}/{found.publication.version}/"
        f"{found.region}/index.{file_format}"
    )


def offer_json(found: lists.PriceList) -> bytes:
    pub = found.publication
    body = {
        "formatVersion": "v1.0",
        "disclaimer": DISCLAIMER,
        "offerCode": found.service,
        "version": pub.version,
        "publicationDate": pub.date,
        "products": {p.sku: product_entry(p) for p in found.products},
        "terms": {"OnDemand": {p.sku: on_demand(p, pub) for p in found.products}},
    }
    return orjson.dumps(body, option=orjson.OPT_INDENT_2)


def offer_csv(found: lists.PriceList) -> bytes:
    pub = found.publication
    names = sorted({name for p in found.products for name, _ in p.attributes})
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["FormatVersion", "v1.0"])
    writer.writerow(["Disclaimer", DISCLAIMER])
    writer.writerow(["Publication Date", pub.date])
    writer.writerow(["Version", pub.version])
    writer.writerow(["OfferCode", found.service])
    writer.writerow([*_CSV_COLUMNS, *names])
    for p in found.products:
        attributes = dict(p.attributes)
        for term in on_demand(p, pub).values():
            for dimension in term["priceDimensions"].values():
                writer.writerow(
                    [
                        p.sku,
                        term["offerTermCode"],
                        dimension["rateCode"],
                        "OnDemand",
                        dimension["description"],
                        term["effectiveDate"],
                        dimension["beginRange"],
                        dimension["endRange"],
                        dimension["unit"],
                        usd(p.price),
                        CURRENCY,
                        p.family,
                        *(attributes.get(name, "") for name in names),
                    ]
                )
    return out.getvalue().encode()


def serve(runtime: Runtime, path: str) -> Response:
    """GET of a price list file (`path` is what follows PREFIX); 404 for no such file."""
    parts = _PATH.match(path)
    if parts is None:
        return _missing(path)
    service, version, region, file_format = parts.groups()
    ctx = Context(runtime, DEFAULT_ACCOUNT, str(runtime.config.default_region), "")
    arn = f"arn:aws:pricing:::price-list/aws/{service}/{CURRENCY}/{version}/{region}"
    try:
        found = lists.find(ctx, arn)
    except AwsError:
        return _missing(path)
    if file_format == "json":
        return Response(200, [("content-type", "application/json")], offer_json(found))
    return Response(200, [("content-type", "text/csv; charset=utf-8")], offer_csv(found))


def _missing(path: str) -> Response:
    body = orjson.dumps({"message": f"No price list file {PREFIX}{path}."})
    return Response(404, [("content-type", "application/json")], body)
