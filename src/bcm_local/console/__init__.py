"""The web console at `/_bcm_local/`: read-only pages over what the emulator holds and the
synthetic bill, plus the small JSON endpoints the pages' charts and `bcm-local status` use.

Served by the emulator's own server (App._internal falls through to `handle`); imported on
the first console request, never at start-up.
"""

from bcm_local.console.routes import handle

__all__ = ["handle"]
