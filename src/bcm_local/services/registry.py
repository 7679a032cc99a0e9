"""The services this emulator serves: each one's model, target prefix and operations table.

The server builds each service's protocol from its model and its operations table
(server/app.py), importing the table lazily (on the service's first request) so
start-up stays fast; the `enabled` setting of a disabled service makes it answer like an
unknown one.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bcm_local.runtime import Runtime
from bcm_local.settings import Config
from bcm_local.wire.http import Response
from bcm_local.wire.model import Serialized

# an operation: parsed, validated input members in, output members out (maybe awaited),
# or its output already serialized
Handler = Callable[..., dict[str, Any] | Serialized | Awaitable[dict[str, Any]]]
# serves a service's files (the price list files): runtime, the path after /_bcm_local/<name>/
FileServer = Callable[[Runtime, str], Response]


@dataclass(frozen=True)
class JsonService:
    name: str  # endpoint prefix, e.g. "bcm-data-exports"
    model_name: str
    target_prefix: str
    operations_module: str  # module with an OPERATIONS table
    enabled_setting: str  # Config attribute
    startup: str = ""  # "module:function(runtime)" run at server start while enabled
    files: str = ""  # "module:function(runtime, path)" answering GET /_bcm_local/<name>/<path>

    def enabled(self, config: Config) -> bool:
        return bool(getattr(config, self.enabled_setting))

    def operations(self) -> Mapping[str, Handler]:
        """The operations table, by AWS operation name (imported on first use)."""
        module: Any = importlib.import_module(self.operations_module)
        table: Mapping[str, Handler] = module.OPERATIONS
        return table

    def file_server(self) -> FileServer:
        """The function serving the service's files (imported on first use)."""
        module, _, function = self.files.partition(":")
        served: FileServer = getattr(importlib.import_module(module), function)
        return served


JSON_SERVICES: tuple[JsonService, ...] = (
    JsonService(
        "bcm-data-exports",
        "bcm-data-exports",
        "AWSBillingAndCostManagementDataExports",
        "bcm_local.services.dataexports.operations",
        "bcm_data_exports_enabled",
        "bcm_local.services.dataexports.executions:startup",
    ),
    JsonService(
        "cur",
        "cur",
        "AWSOrigamiServiceGatewayService",
        "bcm_local.services.cur.operations",
        "cur_enabled",
        "bcm_local.services.cur.emit:ensure_scheduled",
    ),
    JsonService(
        "ce",
        "ce",
        "AWSInsightsIndexService",
        "bcm_local.services.ce.operations",
        "ce_enabled",
    ),
    JsonService(
        "billing",
        "billing",
        "AWSBilling",
        "bcm_local.services.billing.operations",
        "billing_enabled",
    ),
    JsonService(
        "pricing",
        "pricing",
        "AWSPriceListService",
        "bcm_local.services.pricing.operations",
        "pricing_enabled",
        files="bcm_local.services.pricing.files:serve",
    ),
)

BY_TARGET: dict[str, JsonService] = {s.target_prefix: s for s in JSON_SERVICES}


def file_route(config: Config, path: str) -> tuple[JsonService, str] | None:
    """The enabled service serving a `/_bcm_local/<name>/...` path, and the rest of it."""
    for service in JSON_SERVICES:
        prefix = f"/_bcm_local/{service.name}/"
        if service.files and path.startswith(prefix) and service.enabled(config):
            return service, path[len(prefix) :]
    return None


def start(runtime: Runtime) -> None:
    """Run the start-up hooks of the enabled services (recovery, daily schedules)."""
    for service in JSON_SERVICES:
        if service.startup and service.enabled(runtime.config):
            module, _, function = service.startup.partition(":")
            getattr(importlib.import_module(module), function)(runtime)


def states(config: Config) -> dict[str, str]:
    names = {s.name: s.enabled(config) for s in JSON_SERVICES}
    names["s3"] = bool(config.s3_enabled)
    return {name: "running" if on else "disabled" for name, on in names.items()}
