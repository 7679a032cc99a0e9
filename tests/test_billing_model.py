"""The usage model: one bill feeds every table, deterministic, scenario-driven."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from billing_support import ACCOUNT, NOW, dataset, fetch, scalar, view

from bcm_local.billing import bill, tables
from bcm_local.billing.scenario.default import DEFAULT_SCENARIO
from bcm_local.billing.scenario.definition import ScenarioError, from_dict, load
from bcm_local.billing.usage.lines import ResourceUsageEnumerator, UsageContext, UsageLine
from bcm_local.settings import load as load_settings

CUR, FOCUS, FOCUS10 = tables.CUR2, tables.FOCUS_1_2, tables.FOCUS_1_0
WITH_RESOURCES = {"INCLUDE_RESOURCES": "TRUE"}


def test_focus_billed_cost_equals_cur_unblended_cost_per_period() -> None:
    data = dataset(BCM_LOCAL_BILLING_BACKFILL_MONTHS="1")
    view(data, "cur", CUR)
    view(data, "f12", FOCUS)
    view(data, "f10", FOCUS10)
    view(data, "dash", tables.DASHBOARD)
    cur = dict(
        fetch(
            data,
            "SELECT bill_billing_period_start_date, sum(line_item_unblended_cost) FROM cur GROUP "
            "BY 1",
        )
    )
    assert len(cur) == 2
    for name, start_col, cost_col in (
        ("f12", "BillingPeriodStart", "BilledCost"),
        ("f10", "BillingPeriodStart", "BilledCost"),
        ("dash", "billing_period", "unblended_cost"),
    ):
        other = dict(
            fetch(data, f"SELECT {start_col}::TIMESTAMP, sum({cost_col}) FROM {name} GROUP BY 1")
        )
        assert other.keys() == cur.keys()
        for period, total in cur.items():
            assert other[period] == pytest.approx(total, rel=1e-9), name


def test_dashboard_engine_and_generation_come_from_the_product_attributes() -> None:
    data = dataset()
    view(data, "cur", CUR)
    view(data, "dash", tables.DASHBOARD)
    for key in ("database_engine", "current_generation"):
        value = f"map_extract_value(product, {data.map_key('product_map', key)})"
        in_cur = f"SELECT DISTINCT line_item_product_code, {value} AS v FROM cur WHERE v NOT NULL"
        in_dash = f"SELECT DISTINCT product_code, {key} FROM dash WHERE {key} NOT NULL"
        assert set(fetch(data, in_dash)) == set(fetch(data, in_cur)) != set(), key
    engines = "SELECT DISTINCT database_engine FROM dash WHERE product_code = 'AmazonRDS'"
    assert ("MySQL",) in fetch(data, engines)
    usage = "FROM dash WHERE instance_type NOT NULL AND charge_type = 'Usage'"
    assert fetch(data, f"SELECT DISTINCT current_generation {usage}") == [("Yes",)]


def test_tables_share_accounts_and_resources() -> None:
    data = dataset()
    view(data, "cur", CUR, WITH_RESOURCES)
    view(data, "f12", FOCUS)
    cur_ids = set(
        fetch(
            data,
            "SELECT DISTINCT line_item_resource_id FROM cur WHERE line_item_resource_id IS NOT "
            "NULL",
        )
    )
    focus_ids = set(fetch(data, "SELECT DISTINCT ResourceId FROM f12 WHERE ResourceId IS NOT NULL"))
    assert cur_ids == focus_ids and len(cur_ids) > 30
    cur_accounts = set(fetch(data, "SELECT DISTINCT line_item_usage_account_id FROM cur"))
    assert cur_accounts == set(fetch(data, "SELECT DISTINCT SubAccountId FROM f12"))
    assert len(cur_accounts) == 4  # payer + three members
    assert fetch(data, "SELECT DISTINCT bill_payer_account_id FROM cur") == [(ACCOUNT,)]
    tags = fetch(data, "SELECT DISTINCT Tags['team'] FROM f12 WHERE Tags['team'] IS NOT NULL")
    assert {t for (t,) in tags} >= {"storefront", "platform", "data"}


@pytest.mark.parametrize("table", [CUR, FOCUS])
def test_totals_do_not_depend_on_the_time_granularity(table: str) -> None:
    totals = []
    for granularity in ("HOURLY", "DAILY", "MONTHLY"):
        data = dataset(granularity)
        view(data, "t", table, {"TIME_GRANULARITY": granularity})
        cost = "line_item_unblended_cost" if table == CUR else "BilledCost"
        totals.append(scalar(data, f"SELECT sum({cost}) FROM t"))
        count = scalar(data, "SELECT count(*) FROM t")
        totals.append(count)
    costs, counts = totals[0::2], totals[1::2]
    assert costs[0] == pytest.approx(costs[1], rel=1e-9) == pytest.approx(costs[2], rel=1e-9)
    assert counts[0] > counts[1] > counts[2]


def test_time_granularity_shapes_the_intervals() -> None:
    for granularity, hours in (("HOURLY", 1), ("DAILY", 24)):
        data = dataset(granularity)
        view(data, "t", FOCUS, {"TIME_GRANULARITY": granularity})
        spans = fetch(
            data,
            "SELECT DISTINCT date_diff('hour', ChargePeriodStart, ChargePeriodEnd) FROM t WHERE "
            "ChargeCategory = 'Usage'",
        )
        assert spans == [(hours,)]
    data = dataset("MONTHLY")
    view(data, "t", CUR, {"TIME_GRANULARITY": "MONTHLY"})
    starts = fetch(data, "SELECT DISTINCT line_item_usage_start_date FROM t")
    assert starts == [(datetime(2026, 5, 1),)]


def test_include_resources_false_aggregates_resources_away() -> None:
    data = dataset()
    view(data, "agg", CUR)
    view(data, "per", CUR, WITH_RESOURCES)
    assert scalar(data, "SELECT count(*) FROM agg") < scalar(data, "SELECT count(*) FROM per")
    assert scalar(data, "SELECT sum(line_item_unblended_cost) FROM agg") == pytest.approx(
        scalar(data, "SELECT sum(line_item_unblended_cost) FROM per"), rel=1e-9
    )
    assert scalar(data, "SELECT count(DISTINCT identity_line_item_id) = count(*) FROM agg")
    assert scalar(data, "SELECT count(DISTINCT identity_line_item_id) = count(*) FROM per")


def test_line_item_types_and_bill_types() -> None:
    data = dataset(BCM_LOCAL_BILLING_BACKFILL_MONTHS="2")
    view(data, "cur", CUR, WITH_RESOURCES)
    found = {t for (t,) in fetch(data, "SELECT DISTINCT line_item_line_item_type FROM cur")}
    assert found == {
        "Usage",
        "SavingsPlanCoveredUsage",
        "SavingsPlanNegation",
        "SavingsPlanRecurringFee",
        "DiscountedUsage",
        "RIFee",
        "Fee",
        "Tax",
        "Credit",
        "Refund",
    }
    # the reservation was bought two months before the current one: its upfront fee is
    # billed (bill type Purchase) in that month only
    purchases = fetch(
        data,
        "SELECT DISTINCT bill_billing_period_start_date FROM cur WHERE bill_bill_type = 'Purchase'",
    )
    assert purchases == [(datetime(2026, 3, 1),)]
    assert (
        scalar(
            data,
            "SELECT min(line_item_unblended_cost) FROM cur WHERE line_item_line_item_type = "
            "'Credit'",
        )
        < 0
    )
    invoices = dict(
        fetch(
            data,
            "SELECT bill_billing_period_start_date, any_value(bill_invoice_id) FROM cur GROUP BY 1",
        )
    )
    assert invoices[datetime(2026, 5, 1)] is None
    assert all(
        invoices[m] and len(invoices[m]) == 10 for m in (datetime(2026, 3, 1), datetime(2026, 4, 1))
    )


def test_savings_plan_and_reservation_amounts_are_consistent() -> None:
    data = dataset("HOURLY")
    view(data, "cur", CUR, {"INCLUDE_RESOURCES": "TRUE", "TIME_GRANULARITY": "HOURLY"})
    covered, negated = fetch(
        data,
        "SELECT sum(line_item_unblended_cost) FILTER (line_item_line_item_type = "
        "'SavingsPlanCoveredUsage'), sum(line_item_unblended_cost) FILTER "
        "(line_item_line_item_type = 'SavingsPlanNegation') FROM cur",
    )[0]
    assert covered > 0 and negated == pytest.approx(-covered)
    effective, used, commitment = fetch(
        data,
        "SELECT sum(savings_plan_savings_plan_effective_cost), sum(savings_plan_used_commitment), "
        "sum(savings_plan_total_commitment_to_date) FROM cur",
    )[0]
    assert effective == pytest.approx(used) and used <= commitment
    assert effective < covered  # the plan is cheaper than on demand
    hourly = fetch(
        data,
        "SELECT line_item_usage_start_date, sum(savings_plan_savings_plan_effective_cost), "
        "sum(savings_plan_used_commitment) FROM cur GROUP BY 1",
    )
    assert all(e == pytest.approx(u) for _, e, u in hourly if u is not None)
    assert (
        scalar(
            data,
            "SELECT sum(line_item_unblended_cost) FROM cur WHERE line_item_line_item_type = "
            "'DiscountedUsage'",
        )
        == 0
    )
    unused, reserved = fetch(
        data,
        "SELECT reservation_unused_quantity, line_item_usage_amount FROM cur WHERE "
        "line_item_line_item_type = 'RIFee'",
    )[0]
    used_hours = scalar(
        data,
        "SELECT sum(line_item_usage_amount) FROM cur WHERE line_item_line_item_type = "
        "'DiscountedUsage'",
    )
    assert unused == pytest.approx(reserved - used_hours)


def test_tax_is_the_rate_times_the_taxed_charges() -> None:
    data = dataset("MONTHLY")
    view(data, "cur", CUR, {"TIME_GRANULARITY": "MONTHLY"})
    rate = DEFAULT_SCENARIO["tax"]["rate"]
    pairs = fetch(
        data,
        """
        SELECT t.tax, c.cost FROM
          (SELECT line_item_usage_account_id a, line_item_product_code p,
                  sum(line_item_unblended_cost) tax
           FROM cur WHERE line_item_line_item_type = 'Tax' GROUP BY ALL) t
        JOIN (SELECT line_item_usage_account_id a, line_item_product_code p,
                     sum(line_item_unblended_cost) cost
              FROM cur WHERE line_item_line_item_type
                             NOT IN ('Tax', 'Credit', 'Refund', 'SavingsPlanNegation')
              GROUP BY ALL) c USING (a, p)""",
    )
    assert len(pairs) > 5
    assert all(tax == pytest.approx(cost * rate) for tax, cost in pairs)


def test_usage_follows_weekdays_and_the_spike() -> None:
    data = dataset("HOURLY")
    view(data, "f", FOCUS, {"TIME_GRANULARITY": "HOURLY"})
    web = "ResourceName LIKE 'web-%' AND ConsumedUnit = 'Hrs'"
    by_hour = dict(
        fetch(
            data,
            f"SELECT ChargePeriodStart::TIMESTAMP, sum(ConsumedQuantity) FROM f WHERE {web} GROUP "
            "BY 1",
        )
    )
    spike = by_hour[datetime(2026, 5, 12, 15)]  # spike day 12, 14:00-19:00
    assert spike > 1.3 * by_hour[datetime(2026, 5, 5, 15)]
    weekday = sum(v for k, v in by_hour.items() if k.weekday() < 5 and k.day != 12) / sum(
        1 for k in by_hour if k.weekday() < 5 and k.day != 12
    )
    weekend = sum(v for k, v in by_hour.items() if k.weekday() >= 5) / sum(
        1 for k in by_hour if k.weekday() >= 5
    )
    assert weekend < weekday
    staging = fetch(
        data,
        "SELECT DISTINCT hour(ChargePeriodStart), dayofweek(ChargePeriodStart) FROM f WHERE "
        "ResourceName LIKE 'staging-%'",
    )
    assert all(8 <= h < 20 and 1 <= d <= 5 for h, d in staging)


def test_current_month_stops_at_now_and_resources_start_on_their_day() -> None:
    data = dataset("HOURLY")  # NOW is 10:30: the bill runs through the hour under way
    view(data, "f", FOCUS, {"TIME_GRANULARITY": "HOURLY"})
    assert scalar(
        data, "SELECT max(ChargePeriodStart) FROM f WHERE ChargeCategory = 'Usage'"
    ) == datetime(2026, 5, 17, 10)
    usage_end = "SELECT max(ChargePeriodEnd) FROM f WHERE ChargeCategory = 'Usage'"
    assert scalar(data, usage_end) == datetime(2026, 5, 17, 11)
    assert scalar(
        data, "SELECT min(ChargePeriodStart) FROM f WHERE ResourceName = 'build-1'"
    ) == datetime(2026, 5, 9)


def test_properties_fill_capacity_reservation_and_iam_principal_columns() -> None:
    data = dataset()
    view(
        data,
        "cur",
        CUR,
        {
            "INCLUDE_CAPACITY_RESERVATION_DATA": "TRUE",
            "INCLUDE_IAM_PRINCIPAL_DATA": "TRUE",
            "INCLUDE_RESOURCES": "TRUE",
        },
    )
    statuses = {
        s
        for (s,) in fetch(
            data,
            "SELECT DISTINCT capacity_reservation_capacity_reservation_status FROM cur WHERE "
            "capacity_reservation_capacity_reservation_arn IS NOT NULL",
        )
    }
    assert statuses == {"Used", "Unused"}
    assert (
        scalar(
            data,
            "SELECT count(DISTINCT line_item_resource_id) FROM cur WHERE "
            "capacity_reservation_capacity_reservation_status = 'Used'",
        )
        == 3
    )
    principals = fetch(
        data,
        "SELECT DISTINCT line_item_product_code, line_item_iam_principal FROM cur WHERE "
        "line_item_iam_principal IS NOT NULL",
    )
    assert principals and all(
        p == "AmazonBedrock" and arn.startswith("arn:aws:iam::") for p, arn in principals
    )


def test_recommendations_filter_and_include_all() -> None:
    data = dataset("MONTHLY")
    best = view(data, "best", tables.RECOMMENDATIONS)
    every = view(data, "every", tables.RECOMMENDATIONS, {"INCLUDE_ALL_RECOMMENDATIONS": "TRUE"})
    assert (
        scalar(data, f"SELECT count(*) FROM {every}")
        > scalar(data, f"SELECT count(*) FROM {best}")
        > 0
    )
    assert scalar(data, f"SELECT count(*) = count(DISTINCT resource_arn) FROM {best}")
    assert {a for (a,) in fetch(data, f"SELECT DISTINCT action_type FROM {every}")} == {
        "Rightsize",
        "MigrateToGraviton",
        "Stop",
        "Upgrade",
    }
    assert scalar(
        data, f"SELECT bool_and(estimated_monthly_savings_after_discount > 0) FROM {every}"
    )
    view(
        data,
        "stop",
        tables.RECOMMENDATIONS,
        {"FILTER": '{"actionTypes": ["Stop"]}', "INCLUDE_ALL_RECOMMENDATIONS": "TRUE"},
    )
    assert {a for (a,) in fetch(data, "SELECT DISTINCT action_type FROM stop")} == {"Stop"}


def test_carbon_emissions_follow_usage() -> None:
    data = dataset("MONTHLY")
    view(data, "c", tables.CARBON)
    found = fetch(
        data, "SELECT usage_account_id, product_code, region_code, total_mbm_emissions_value FROM c"
    )
    assert len(found) == len({r[:3] for r in found}) > 5
    assert all(v >= 0 for *_, v in found)


def test_same_seed_same_bill_other_seed_other_bill() -> None:
    totals = []
    for seed in ("7", "7", "8"):
        data = dataset("HOURLY", BCM_LOCAL_BILLING_SEED=seed)
        view(data, "f", FOCUS, {"TIME_GRANULARITY": "HOURLY"})
        totals.append(
            fetch(
                data,
                "SELECT sum(BilledCost), string_agg(ResourceId, ',' ORDER BY ResourceId) FROM f",
            )
        )
    assert totals[0] == totals[1] != totals[2]


def test_scale_multiplies_the_fleet() -> None:
    counts = []
    for scale in ("1", "3"):
        data = dataset(BCM_LOCAL_BILLING_SCALE=scale)
        view(data, "f", FOCUS)
        usage = "FROM f WHERE ChargeCategory = 'Usage'"
        counts.append(fetch(data, f"SELECT count(DISTINCT ResourceId), count(*) {usage}")[0])
    (ids1, rows1), (ids3, rows3) = counts
    assert ids3 == 3 * ids1 and rows3 == 3 * rows1


def test_scenario_files_are_validated_with_the_field_named(tmp_path: Path) -> None:
    cases = {
        "kind": {"resources": [{"kind": "ec3"}]},
        "resources": {"organization": {}},
        "colour": {"resources": [{"kind": "ec2", "type": "m5.large", "colour": "red"}]},
        "account": {"resources": [{"kind": "s3", "account": "nobody"}]},
        "count": {"resources": [{"kind": "s3", "count": "two"}]},
        "savings_plan": {"resources": [{"kind": "ec2", "type": "m5.large", "savings_plan": "x"}]},
        "region": {"resources": [{"kind": "s3", "region": "mars-1"}]},
        "spikes[0].service": {"resources": [], "spikes": [{"service": "AmazonNothing"}]},
        "spikes[0].day": {"resources": [], "spikes": [{"account": "payer", "day": 30}]},
        "spikes[0].factor": {"resources": [], "spikes": [{"account": "payer", "factor": 0}]},
        "spikes[0].service: a spike needs": {"resources": [], "spikes": [{"day": 3}]},
    }
    for field, raw in cases.items():
        with pytest.raises(ScenarioError) as caught:
            from_dict(raw)
        assert field in str(caught.value)
    bad = tmp_path / "bad.yaml"
    bad.write_text("resources: [kind: ec2\n")
    with pytest.raises(ScenarioError, match=r"bad\.yaml"):
        load(bad)


def test_a_scenario_file_drives_the_bill(tmp_path: Path) -> None:
    scenario = {
        "organization": {"payer_name": "Tiny Co"},
        "resources": [{"kind": "ec2", "type": "t3.micro", "count": 2, "name": "box"}],
        "support": "none",
    }
    for path in (tmp_path / "s.json", tmp_path / "s.yaml"):
        if path.suffix == ".json":
            path.write_text(json.dumps(scenario))
        else:
            import yaml

            path.write_text(yaml.safe_dump(scenario))
        data = dataset("MONTHLY", BCM_LOCAL_BILLING_SCENARIO=str(path))
        view(data, "f", FOCUS, {"TIME_GRANULARITY": "MONTHLY"})
        found = fetch(
            data, "SELECT DISTINCT BillingAccountName, SkuMeter, ResourceName FROM f ORDER BY 3"
        )
        assert found == [("Tiny Co", "BoxUsage", "box-1"), ("Tiny Co", "BoxUsage", "box-2")]
        hours = scalar(data, "SELECT sum(ConsumedQuantity) FROM f")
        assert hours == pytest.approx(2 * (16 * 24 + 11))


def test_a_spike_multiplies_its_service_and_account_over_its_hours(tmp_path: Path) -> None:
    """The default scenario's spike (Bedrock in `data`, 06:00-18:00 on the 14th of the
    previous month) against the same scenario without it: the hit lines' usage is `factor`
    times as much in those hours and the same elsewhere; no other line moves."""
    (spike,) = DEFAULT_SCENARIO["spikes"]
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({**DEFAULT_SCENARIO, "spikes": []}))
    query = (
        "SELECT line_item_usage_start_date::TIMESTAMP, line_item_product_code, "
        "line_item_usage_account_name, sum(line_item_usage_amount) FROM c "
        "WHERE line_item_line_item_type = 'Usage' "
        "GROUP BY ALL"
    )
    usage = []
    for env in ({"BCM_LOCAL_BILLING_SCENARIO": str(plain)}, {}):
        data = dataset("HOURLY", BCM_LOCAL_BILLING_BACKFILL_MONTHS="1", **env)
        view(data, "c", CUR, {"TIME_GRANULARITY": "HOURLY"})
        usage.append({(t, p, a): u for t, p, a, u in fetch(data, query)})
    before, after = usage
    assert before.keys() == after.keys()
    start = datetime(2026, 4, spike["day"], spike["start_hour"])
    hit = {
        k
        for k in before
        if k[1] == spike["service"]
        and k[2] == "example-data"
        and start <= k[0] < start.replace(hour=start.hour + spike["hours"])
    }
    assert len(hit) == spike["hours"]
    for key, amount in before.items():
        factor = spike["factor"] if key in hit else 1.0
        assert after[key] == pytest.approx(amount * factor, rel=1e-9), key


class _Fixed:
    name = "fixed"

    def enumerate(self, ctx: UsageContext) -> list[UsageLine]:
        return [
            UsageLine(
                ctx.account_id,
                "payer",
                "AmazonSNS",
                "AmazonSNS",
                "Amazon SNS",
                "Requests-Tier1",
                "Publish",
                "Requests",
                1000.0,
                0.0000005,
                0.0000005,
                "SNS requests",
                "Message Delivery",
                region="us-east-1",
                resource_id="arn:aws:sns:us-east-1:000000000000:alerts",
            )
        ]


def test_third_party_enumerators_come_from_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(_Fixed(), ResourceUsageEnumerator)
    dist = tmp_path / "acme_usage-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-usage\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[bcm_local.enumerators]\nfixed = test_billing_model:_Fixed\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [e.name for e in bill.enumerators()][-1] == "fixed"
    data = dataset()
    view(data, "f", FOCUS)
    assert scalar(
        data, "SELECT sum(ConsumedQuantity) FROM f WHERE x_ServiceCode = 'AmazonSNS'"
    ) == pytest.approx(1000 * (16 * 24 + 11))


def test_emulator_buckets_are_billed() -> None:
    from billing_support import BUCKET, runtime

    from bcm_local.objects.backend import s3_backend

    with runtime() as rt:
        s3_backend(rt).put_object_bytes(ACCOUNT, BUCKET, "big.bin", b"x" * 3_000_000)
        con = bill.connect()
        data = bill.open_dataset(con, rt.config, ACCOUNT, rt.clock.now(), "DAILY", runtime=rt)
        view(data, "f", FOCUS)
        usage = dict(
            fetch(
                data,
                f"SELECT SkuMeter, sum(ConsumedQuantity) FROM f WHERE ResourceId = '{BUCKET}' "
                "GROUP BY 1",
            )
        )
        # stored GB spread over the month's hours: under the GB stored, above zero
        assert 0 < usage["TimedStorage-ByteHrs"] <= 3_000_000 / 2**30


def test_settings_defaults() -> None:
    config = load_settings(env={})
    assert (config.billing_seed, config.billing_scale, config.billing_backfill_months) == (42, 1, 0)
    assert NOW.tzinfo is UTC
