"""CARBON_EMISSIONS: estimated market-based emissions by account, service and region, from
the model's usage cost and each region's factor (catalog.Region.mtco2e_per_usd)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bcm_local.billing import catalog
from bcm_local.billing.tables.schema import Table, columns_of
from bcm_local.billing.tables.sql import USAGE_TYPES, Source, const, select_list

if TYPE_CHECKING:
    from bcm_local.billing.model.build import Dataset

NAME = "CARBON_EMISSIONS"
s, d, t, i, b = "string", "double", "timestamp", "int", "boolean"
ms = "map<string,string>"

_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("last_refresh_timestamp", t, "", "When the estimate was last refreshed."),
    ("location", s, "", "Geographic location of the emissions."),
    ("model_version", s, "", "Version of the estimation model."),
    ("payer_account_id", s, "", "Paying account."),
    ("product_code", s, "", "Code of the product."),
    ("region_code", s, "", "Region code."),
    ("total_mbm_emissions_unit", s, "", "Unit of the market-based emissions (MTCO2e)."),
    ("total_mbm_emissions_value", d, "", "Market-based emissions."),
    ("usage_account_id", s, "", "Account that used the resources."),
    ("usage_period_end", t, "", "Exclusive end of the period."),
    ("usage_period_start", t, "", "Inclusive start of the period."),
)

TABLE = Table(
    NAME,
    "Estimated market-based carbon emissions by account, service and region.",
    columns_of(_COLUMNS),
)


def sql(data: Dataset, props: dict[str, str]) -> str:
    import pyarrow as pa

    regions = pa.table(
        {
            "code": list(catalog.REGIONS),
            "factor": [r.mtco2e_per_usd for r in catalog.REGIONS.values()],
            "location": [r.location for r in catalog.REGIONS.values()],
        }
    )
    data.con.register("carbon_regions", regions)
    exprs = {
        "last_refresh_timestamp": f"TIMESTAMP '{data.now.strftime('%Y-%m-%d %H:00:00')}'",
        "location": "location",
        "model_version": const("v3.0.0"),
        "payer_account_id": "payer_id",
        "product_code": "product_code",
        "region_code": "region",
        "total_mbm_emissions_unit": const("MTCO2e"),
        "total_mbm_emissions_value": "value",
        "usage_account_id": "account_id",
        "usage_period_end": "bp_end",
        "usage_period_start": "bp_start",
    }
    grouped = (
        "SELECT payer_id, account_id, product_code, region, bp_start, bp_end, "
        "any_value(r.location) "
        "AS location, round(sum(l.month_factor * l.c * r.factor), 6) AS value FROM lines l "
        "JOIN carbon_regions r ON r.code = l.region::VARCHAR WHERE line_item_type IN "
        f"{USAGE_TYPES} "
        "GROUP BY ALL"
    )
    columns = select_list(TABLE, props, exprs, Source(marker="value"))
    return (
        f"SELECT {columns} FROM ({grouped}) "
        "ORDER BY usage_period_start, usage_account_id, product_code, region_code"
    )
