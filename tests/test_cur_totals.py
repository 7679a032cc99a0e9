"""Legacy CUR and CUR 2.0 come from the one billing model: a legacy report and a Data
Exports CUR 2.0 export of the same month, account and granularity agree line for line."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bcm_local.testing import ServerProcess, export_body
from tests.conftest import make_client
from tests.cur_support import (
    PARQUET,
    Tenant,
    body,
    csv_frame,
    definition,
    fresh_account,
    keys,
    parquet_table,
)

BF = "backfill-bucket"
CUR2_QUERY = (
    "SELECT identity_line_item_id, line_item_usage_type, line_item_line_item_type, "
    "line_item_unblended_cost, line_item_usage_amount, pricing_public_on_demand_cost "
    "FROM COST_AND_USAGE_REPORT"
)

# the columns compared, by their Parquet (CUR 2.0 and legacy) and legacy CSV names
SHORT_NAMES = {
    "identity_line_item_id": "id",
    "line_item_usage_type": "usage_type",
    "line_item_unblended_cost": "cost",
    "line_item_usage_amount": "amount",
    "pricing_public_on_demand_cost": "public",
}
CSV_SHORT_NAMES = {
    "identity/LineItemId": "id",
    "lineItem/UsageType": "usage_type",
    "lineItem/UnblendedCost": "cost",
    "lineItem/UsageAmount": "amount",
    "pricing/publicOnDemandCost": "public",
}


def _export(
    name: str, bucket: str, granularity: str, resources: bool, query: str = CUR2_QUERY
) -> dict[str, Any]:
    table = {"TIME_GRANULARITY": granularity, "INCLUDE_RESOURCES": "TRUE" if resources else "FALSE"}
    tables = {"COST_AND_USAGE_REPORT": table}
    return export_body(name, query, bucket=bucket, prefix="cur2", tables=tables)


class Pair(Tenant):
    """One account with a legacy report and a CUR 2.0 export delivered in the same hour
    (the model's month-to-date grows by the hour, so the two must see the same hour)."""

    def __init__(self, endpoint: str, granularity: str, resources: bool, **report: Any) -> None:
        super().__init__(endpoint, "totals")
        self.exports = make_client(endpoint, "bcm-data-exports", self.account)
        elements = ["RESOURCES"] if resources else []
        for attempt in range(3):
            hour = time.gmtime().tm_hour
            name = f"legacy{attempt}"
            self.cur.put_report_definition(
                ReportDefinition=definition(
                    name,
                    S3Bucket=self.bucket,
                    TimeUnit=granularity,
                    AdditionalSchemaElements=elements,
                    ReportVersioning="OVERWRITE_REPORT",
                    **report,
                )
            )
            self.exports.create_export(
                Export=_export(f"cur2-{attempt}", self.bucket, granularity, resources)
            )
            if time.gmtime().tm_hour == hour:
                self.report = name
                self.export_prefix = f"cur2/cur2-{attempt}/"
                return
        raise AssertionError("deliveries kept straddling an hour boundary")

    def legacy_rows(self) -> Any:
        found = keys(self.s3, self.bucket, f"reports/{self.report}/")
        data = [k for k in found if k.endswith((".csv.gz", ".csv.zip", ".parquet"))]
        assert len(data) == 1, found
        if data[0].endswith(".parquet"):
            frame = parquet_table(self.s3, self.bucket, data[0]).to_pandas()
            return frame.rename(columns=SHORT_NAMES)
        frame = csv_frame(self.s3, self.bucket, data[0])
        frame = frame.rename(columns=CSV_SHORT_NAMES)
        for column in ("cost", "amount", "public"):
            frame[column] = frame[column].replace("", "nan").astype(float)
        return frame

    def cur2_rows(self) -> Any:
        import pandas as pd

        found = [k for k in keys(self.s3, self.bucket, self.export_prefix) if ".parquet" in k]
        assert found, keys(self.s3, self.bucket)
        frames = [parquet_table(self.s3, self.bucket, k).to_pandas() for k in found]
        frame = pd.concat(frames)
        return frame.rename(columns=SHORT_NAMES)


@pytest.fixture(scope="module")
def server() -> Any:
    with ServerProcess() as proc:
        yield proc


def _agree(pair: Pair) -> None:
    legacy, cur2 = pair.legacy_rows(), pair.cur2_rows()
    assert len(legacy) == len(cur2) > 0
    assert legacy["cost"].sum() == pytest.approx(cur2["cost"].sum(), rel=1e-9)
    assert legacy["public"].sum() == pytest.approx(cur2["public"].sum(), rel=1e-9)
    assert sorted(legacy["id"]) == sorted(cur2["id"])
    by_type_legacy = legacy.fillna({"usage_type": ""}).groupby("usage_type")["cost"].sum()
    by_type_cur2 = cur2.fillna({"usage_type": ""}).groupby("usage_type")["cost"].sum()
    assert by_type_legacy.to_dict() == pytest.approx(by_type_cur2.to_dict(), rel=1e-9)


@pytest.mark.parametrize(
    ("granularity", "resources", "report"),
    [
        ("DAILY", True, {}),
        ("HOURLY", False, {"Compression": "ZIP"}),
        ("MONTHLY", True, PARQUET),
    ],
    ids=["daily-resources-gzip", "hourly-zip", "monthly-resources-parquet"],
)
def test_legacy_report_agrees_with_a_cur2_export(
    server: ServerProcess, granularity: str, resources: bool, report: dict[str, Any]
) -> None:
    _agree(Pair(server.endpoint, granularity, resources, **report))


def test_backfilled_months_are_delivered_once_without_refresh(tmp_path: Any) -> None:
    env = {"BCM_LOCAL_BILLING_BACKFILL_MONTHS": "2"}
    with ServerProcess(env=env) as proc:
        account = fresh_account()
        s3 = make_client(proc.endpoint, "s3", account)
        cur = make_client(proc.endpoint, "cur", account)
        s3.create_bucket(Bucket=BF)
        report = definition(
            "bf",
            S3Bucket=BF,
            RefreshClosedReports=False,
            ReportVersioning="OVERWRITE_REPORT",
            AdditionalSchemaElements=[],
        )
        cur.put_report_definition(ReportDefinition=report)
        first = {k: body(s3, BF, k) for k in keys(s3, BF, "reports/bf/")}
        periods = sorted({k.split("/")[2] for k in first})
        assert len(periods) == 3
        assert all(p[:8] < p[9:] for p in periods)
        cur.modify_report_definition(ReportName="bf", ReportDefinition=report)
        second = {k: body(s3, BF, k) for k in keys(s3, BF, "reports/bf/")}
        for closed in periods[:2]:
            for key in (k for k in first if f"/{closed}/" in k):
                assert second[key] == first[key], key  # finalized: not rewritten
        current = next(k for k in first if f"/{periods[2]}/" in k and "Manifest" in k)
        assert second[current] != first[current]  # a new assembly id
        _closed_months_agree(proc.endpoint, account, s3, periods[:2])


def _closed_months_agree(endpoint: str, account: str, s3: Any, periods: list[str]) -> None:
    """Each closed month of the legacy report equals the CUR 2.0 export's, invoice included."""
    import pandas as pd

    query = (
        "SELECT bill_billing_period_start_date, bill_invoice_id, line_item_unblended_cost "
        "FROM COST_AND_USAGE_REPORT"
    )
    export = _export("backfilled", BF, "DAILY", False, query)
    make_client(endpoint, "bcm-data-exports", account).create_export(Export=export)
    files = [k for k in keys(s3, BF, "cur2/backfilled/") if ".parquet" in k]
    cur2 = pd.concat([parquet_table(s3, BF, k).to_pandas() for k in files])
    for period in periods:
        data = next(k for k in keys(s3, BF, f"reports/bf/{period}/") if k.endswith(".csv.gz"))
        legacy = csv_frame(s3, BF, data)
        month = cur2[cur2["bill_billing_period_start_date"].dt.strftime("%Y%m%d") == period[:8]]
        assert len(legacy) == len(month) > 0
        assert legacy["lineItem/UnblendedCost"].astype(float).sum() == pytest.approx(
            month["line_item_unblended_cost"].sum(), rel=1e-9
        )
        assert set(legacy["bill/InvoiceId"]) == set(month["bill_invoice_id"]) != {""}
