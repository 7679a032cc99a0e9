"""GetCostForecast, GetUsageForecast and GetApproximateUsageRecords on a real server, against
the CUR 2.0 file the same server delivered (tests/ce_support.py).

The forecast is docs/ce-forecast.md's method, redone here with numpy on the file's daily
sums: a straight line by least squares, a mean offset per weekday from four weeks of
history, normal prediction intervals whose variances add over a bucket's days."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest
from botocore.config import Config

from bcm_local.testing import ServerProcess
from tests import ce_support as cs
from tests.conftest import make_client

TODAY = cs.parse_time(cs.NOW).replace(hour=0)
HISTORY = 90


@pytest.fixture(scope="module")
def bill() -> Iterator[cs.Delivered]:
    with ServerProcess(env=cs.ENV) as server:
        yield cs.Delivered(server)


def _daily(
    bill: cs.Delivered, match: dict[str, Any] | None, metric: str
) -> tuple[datetime, list[float]]:
    first = max(bill.first, TODAY - timedelta(days=HISTORY))
    days = (TODAY - first).days
    ys = [0.0] * days
    for r in bill.rows:
        if first <= r.t < TODAY and cs.matches(r, match):
            ys[(r.t - first).days] += r.metrics[metric]
    return first, ys


def _method(
    first: datetime, ys: list[float], days: list[list[datetime]], level: int
) -> list[tuple[float, float, float]]:
    """(mean, lower, upper) of each bucket (a list of its days), as docs/ce-forecast.md says."""
    y = np.array(ys)
    x = np.arange(len(y), dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    weekday = np.zeros(7)
    wd = np.array([(first + timedelta(days=int(i))).weekday() for i in x])
    params = 2
    if len(y) >= 28:
        weekday = np.array([resid[wd == w].mean() for w in range(7)])
        resid = resid - weekday[wd]
        params += 6
    sigma2 = float((resid**2).sum() / (len(y) - params))
    sxx = float(((x - x.mean()) ** 2).sum())
    z = NormalDist().inv_cdf(0.5 + level / 200)
    out = []
    for bucket in days:
        mean = var = 0.0
        for d in bucket:
            xd = (d - first).days
            mean += max(intercept + slope * xd + weekday[d.weekday()], 0.0)
            var += sigma2 * (1 + 1 / len(y) + (xd - x.mean()) ** 2 / sxx)
        half = z * var**0.5
        out.append((mean, max(mean - half, 0.0), mean + half))
    return out


def _close(answer: str, value: float) -> bool:
    return abs(float(answer) - value) <= 1e-6 * max(1.0, abs(value))


def _days(start: datetime, end: datetime) -> list[datetime]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


@pytest.mark.parametrize(
    ("metric", "ce_metric", "level"),
    [("UNBLENDED_COST", "UnblendedCost", 80), ("AMORTIZED_COST", "AmortizedCost", 95)],
)
def test_daily_forecast_is_the_documented_fit_of_the_files_history(
    bill: cs.Delivered, metric: str, ce_metric: str, level: int
) -> None:
    ask: dict[str, Any] = {"PredictionIntervalLevel": level} if level != 80 else {}
    out = bill.ce.get_cost_forecast(
        TimePeriod={"Start": "2026-05-27", "End": "2026-06-10"},
        Metric=metric,
        Granularity="DAILY",
        Filter=cs.NOT_BUCKETS,
        **ask,
    )
    first, ys = _daily(bill, cs.NOT_BUCKETS, ce_metric)
    days = _days(TODAY, TODAY + timedelta(days=14))
    want = _method(first, ys, [[d] for d in days], level)
    got = out["ForecastResultsByTime"]
    assert [g["TimePeriod"]["Start"] for g in got] == [f"{d:%Y-%m-%d}" for d in days]
    for g, (mean, lo, hi) in zip(got, want, strict=True):
        assert _close(g["MeanValue"], mean), (g, mean)
        assert _close(g["PredictionIntervalLowerBound"], lo)
        assert _close(g["PredictionIntervalUpperBound"], hi)
    total = _method(first, ys, [days], level)[0]
    assert _close(out["Total"]["Amount"], total[0]) and out["Total"]["Unit"] == "USD"


def test_monthly_forecast_sums_its_days_and_intervals_widen_with_the_level(
    bill: cs.Delivered,
) -> None:
    span = {"Start": "2026-05-28", "End": "2026-08-01"}
    service = {
        "Dimensions": {"Key": "SERVICE", "Values": ["Amazon Elastic Compute Cloud - Compute"]}
    }
    widths = []
    for level in (51, 80, 99):
        out = bill.ce.get_cost_forecast(
            TimePeriod=span,
            Metric="UNBLENDED_COST",
            Granularity="MONTHLY",
            Filter=service,
            PredictionIntervalLevel=level,
        )
        periods = [
            (p["TimePeriod"]["Start"], p["TimePeriod"]["End"]) for p in out["ForecastResultsByTime"]
        ]
        assert periods == [
            ("2026-05-28", "2026-06-01"),
            ("2026-06-01", "2026-07-01"),
            ("2026-07-01", "2026-08-01"),
        ]
        first, ys = _daily(bill, service, "UnblendedCost")
        months = [_days(cs.parse_time(s), cs.parse_time(e)) for s, e in periods]
        for p, (mean, lo, hi) in zip(
            out["ForecastResultsByTime"], _method(first, ys, months, level), strict=True
        ):
            assert _close(p["MeanValue"], mean)
            assert (
                float(p["PredictionIntervalLowerBound"])
                <= mean
                <= float(p["PredictionIntervalUpperBound"])
            )
            assert _close(p["PredictionIntervalUpperBound"], hi) and _close(
                p["PredictionIntervalLowerBound"], lo
            )
        means = sum(float(p["MeanValue"]) for p in out["ForecastResultsByTime"])
        assert abs(float(out["Total"]["Amount"]) - means) < 1e-6
        widths.append(
            float(out["ForecastResultsByTime"][1]["PredictionIntervalUpperBound"])
            - float(out["ForecastResultsByTime"][1]["MeanValue"])
        )
    assert widths[0] < widths[1] < widths[2]


def test_usage_forecast_needs_one_unit(bill: cs.Delivered) -> None:
    hours = {"Dimensions": {"Key": "USAGE_TYPE_GROUP", "Values": ["EC2: Running Hours"]}}
    span = {"Start": "2026-05-27", "End": "2026-06-01"}
    out = bill.ce.get_usage_forecast(
        TimePeriod=span, Metric="USAGE_QUANTITY", Granularity="DAILY", Filter=hours
    )
    assert out["Total"]["Unit"] == "Hrs"
    first, ys = _daily(bill, hours, "UsageQuantity")
    want = _method(first, ys, [[d] for d in _days(TODAY, TODAY + timedelta(days=5))], 80)
    assert [
        _close(p["MeanValue"], w[0])
        for p, w in zip(out["ForecastResultsByTime"], want, strict=True)
    ] == [True] * 5
    with pytest.raises(bill.ce.exceptions.UnresolvableUsageUnitException):
        bill.ce.get_usage_forecast(TimePeriod=span, Metric="USAGE_QUANTITY", Granularity="DAILY")


def _error(call: Any, **kw: Any) -> str:
    with pytest.raises(Exception) as caught:
        call(**kw)
    return str(caught.value.response["Error"]["Code"])  # type: ignore[attr-defined]


def test_forecast_errors_are_aws_s(bill: cs.Delivered) -> None:
    ce = bill.ce
    raw = make_client(
        bill.server.endpoint,
        "ce",
        cs.ACCOUNT,
        config=Config(parameter_validation=False, retries={"max_attempts": 0}),
    )

    def cost(start: str, end: str, **kw: Any) -> str:
        return _error(
            ce.get_cost_forecast,
            TimePeriod={"Start": start, "End": end},
            **{"Metric": "UNBLENDED_COST", "Granularity": "DAILY", **kw},
        )

    assert cost("2026-05-26", "2026-06-01") == "ValidationException"  # before today
    assert cost("2026-06-01", "2026-05-30") == "ValidationException"  # End before Start
    assert cost("2026-05-27", "2026-06-01", Granularity="HOURLY") == "ValidationException"
    assert cost("2026-05-27", "2026-09-01") == "ValidationException"  # DAILY: 3 months
    assert cost("2026-05-27", "2027-12-01", Granularity="MONTHLY") == "ValidationException"
    assert cost("2026-05-27", "2026-06-01", Metric="USAGE_QUANTITY") == "ValidationException"
    assert (
        cost(
            "2026-05-27",
            "2026-06-01",
            Filter={"Dimensions": {"Key": "RESOURCE_ID", "Values": ["i-1"]}},
        )
        == "ValidationException"
    )
    assert (
        cost(
            "2026-05-27",
            "2026-06-01",
            Filter={"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": ["000000000001"]}},
        )
        == "DataUnavailableException"
    )
    assert (
        _error(
            ce.get_usage_forecast,
            TimePeriod={"Start": "2026-05-27", "End": "2026-06-01"},
            Metric="UNBLENDED_COST",
            Granularity="DAILY",
        )
        == "ValidationException"
    )
    for level in (50, 100):
        assert (
            _error(
                raw.get_cost_forecast,
                TimePeriod={"Start": "2026-05-27", "End": "2026-06-01"},
                Metric="UNBLENDED_COST",
                Granularity="DAILY",
                PredictionIntervalLevel=level,
            )
            == "ValidationException"
        )
    # the edges that are allowed
    ce.get_cost_forecast(
        TimePeriod={"Start": "2026-05-27", "End": "2026-08-27"},
        Metric="UNBLENDED_COST",
        Granularity="DAILY",
    )
    ce.get_cost_forecast(
        TimePeriod={"Start": "2026-05-27", "End": "2027-11-01"},
        Metric="NET_UNBLENDED_COST",
        Granularity="MONTHLY",
    )


def test_the_same_clock_gives_the_same_forecast_in_another_process() -> None:
    """Two fresh servers (the fixture's has buckets of its own, whose usage moves the
    Support fee and the tax)."""
    ask = {
        "TimePeriod": {"Start": "2026-05-27", "End": "2026-07-01"},
        "Metric": "BLENDED_COST",
        "Granularity": "MONTHLY",
        "PredictionIntervalLevel": 90,
    }
    found = []
    for _ in range(2):
        with ServerProcess(env=cs.ENV) as server:
            out = make_client(server.endpoint, "ce", cs.ACCOUNT).get_cost_forecast(**ask)
        out.pop("ResponseMetadata")
        found.append(out)
    assert found[0] == found[1]
    assert float(found[0]["Total"]["Amount"]) > 0


def _records(bill: cs.Delivered, granularity: str, resources: bool) -> Counter[str]:
    start = TODAY - timedelta(days=30)
    seen = set()
    for r in bill.rows:
        if start <= r.t < TODAY:
            bucket = r.t.replace(day=1, hour=0) if granularity == "MONTHLY" else r.t.replace(hour=0)
            dims = tuple(
                sorted((k, v) for k, v in r.dims.items() if resources or k != "resource_id")
            )
            key = (
                bucket,
                dims,
                tuple(sorted(r.tags.items())),
                tuple(sorted(r.categories.items())),
                r.unit,
            )
            seen.add(key)
    return Counter(dict(key[1])["SERVICE"] for key in seen)


def test_approximate_usage_records_count_the_files_records(bill: cs.Delivered) -> None:
    got = {}
    for granularity, dimension in (
        ("DAILY", "SERVICE"),
        ("DAILY", "RESOURCE"),
        ("MONTHLY", "SERVICE"),
        ("HOURLY", "SERVICE"),
        ("HOURLY", "RESOURCE"),
    ):
        out = bill.ce.get_approximate_usage_records(
            Granularity=granularity, ApproximationDimension=dimension
        )
        assert out["LookbackPeriod"] == {"Start": "2026-04-27", "End": "2026-05-27"}
        assert out["TotalRecords"] == sum(out["Services"].values())
        got[granularity, dimension] = out["Services"]
    for granularity, dimension in (
        ("DAILY", "SERVICE"),
        ("DAILY", "RESOURCE"),
        ("MONTHLY", "SERVICE"),
    ):
        assert got[granularity, dimension] == dict(
            _records(bill, granularity, dimension == "RESOURCE")
        )
    for service, daily in got["DAILY", "SERVICE"].items():
        assert got["MONTHLY", "SERVICE"][service] <= daily <= got["DAILY", "RESOURCE"][service]
        assert daily <= got["HOURLY", "SERVICE"][service] <= got["HOURLY", "RESOURCE"][service]
    services = bill.ce.get_dimension_values(
        TimePeriod={"Start": "2026-04-27", "End": "2026-05-27"}, Dimension="SERVICE"
    )
    assert set(got["DAILY", "SERVICE"]) <= {v["Value"] for v in services["DimensionValues"]}
    two = sorted(got["DAILY", "SERVICE"])[:2]
    only = bill.ce.get_approximate_usage_records(
        Granularity="DAILY", ApproximationDimension="SERVICE", Services=two
    )
    assert only["Services"] == {s: got["DAILY", "SERVICE"][s] for s in two}
    assert (
        _error(
            bill.ce.get_approximate_usage_records,
            Granularity="MONTHLY",
            ApproximationDimension="RESOURCE",
        )
        == "ValidationException"
    )
