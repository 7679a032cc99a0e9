"""Meters of generative AI: Amazon Bedrock model invocations (input and output tokens)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from bcm_local.billing import catalog
from bcm_local.billing.scenario.definition import Resource
from bcm_local.billing.usage.lines import UsageLine
from bcm_local.billing.usage.meter import Owner, money, usage_line


def bedrock(o: Owner, r: Resource, i: int) -> Iterator[UsageLine]:
    model = "anthropic.claude-3-haiku-20240307-v1:0"
    common = dict(
        resource_id=f"arn:aws:bedrock:{o.region.code}::foundation-model/{model}",
        resource_name=model,
        resource_type="FoundationModel",
        iam_principal=f"arn:aws:iam::{o.account_id}:role/{r.name}-service",
    )
    prefix = o.region.prefix or "USE1-"
    for usage, share, key in (
        ("input-tokens", 1.0, "bedrock_input"),
        ("output-tokens", 0.25, "bedrock_output"),
    ):
        p = catalog.PRICES[key]
        line = usage_line(
            o,
            "AmazonBedrock",
            f"Claude3Haiku-{usage}",
            "InvokeModelInference",
            "1K tokens",
            r.per_hour * share,
            p,
            f"${money(p)} per 1K {usage} for Claude 3 Haiku",
            "Amazon Bedrock",
            **common,
        )
        yield replace(line, usage_type=prefix + f"Claude3Haiku-{usage}")
