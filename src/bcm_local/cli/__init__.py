"""`bcm-local`: serve, settings, emit, status and exports (main.py)."""

from bcm_local.cli.main import main

__all__ = ["main"]
