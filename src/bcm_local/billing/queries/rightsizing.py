"""The EC2 instances Cost Explorer's GetRightsizingRecommendation names: the
COST_OPTIMIZATION_RECOMMENDATIONS table of the same bill (all its recommendations for
Ec2Instance resources), so the API and a delivered export name the same resources, actions
and estimated monthly savings. Built once per bill version (queries/cache.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

ACTIONS = ("Stop", "Rightsize", "MigrateToGraviton")


def build(runtime: Any, account: str, now: datetime) -> list[dict[str, Any]]:
    from bcm_local.billing import bill, tables

    con = bill.connect()
    try:
        data = bill.open_dataset(con, runtime.config, account, now, "MONTHLY", runtime=runtime)
        spec = {"resourceTypes": ["Ec2Instance"], "actionTypes": list(ACTIONS)}
        props = {"INCLUDE_ALL_RECOMMENDATIONS": "TRUE", "FILTER": json.dumps(spec)}
        result = con.execute(tables.table_sql(data, tables.RECOMMENDATIONS, props))
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()
