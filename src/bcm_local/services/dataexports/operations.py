from typing import Any

from bcm_local.runtime import Context


def list_exports(
    ctx: Context, MaxResults: int | None = None, NextToken: str | None = None
) -> dict[str, Any]:
    return {"Exports": []}


OPERATIONS = {"ListExports": list_exports}
