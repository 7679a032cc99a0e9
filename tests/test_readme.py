"""The README is the front door: its settings table is the settings module's table."""

from __future__ import annotations

import re
from pathlib import Path

from bcm_local import settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_settings_table_is_current() -> None:
    text = README.read_text()
    block = re.search(
        r"<!-- settings-table:start -->\n(.*?)\n<!-- settings-table:end -->", text, re.S
    )
    assert block, "README lacks the settings-table markers"
    assert block.group(1).strip() == settings.markdown_table(), (
        "README settings table is stale: run `bcm-local settings` and paste it between the markers"
    )


def test_every_setting_has_a_flag_and_known_prefix() -> None:
    flags = [s.flag for s in settings.SETTINGS]
    assert len(flags) == len(set(flags))
    for s in settings.SETTINGS:
        assert s.env.startswith(("BCM_LOCAL_", "FLOCI_SERVICES_"))


def test_readme_names_the_two_setup_commands() -> None:
    text = README.read_text()
    assert "make run" in text and "make test" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "make test" in ci
