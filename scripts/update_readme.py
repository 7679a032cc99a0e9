"""Rewrite the README's settings table from bcm_local.settings (run after adding a setting)."""

import re
from pathlib import Path

from bcm_local.settings import markdown_table

readme = Path(__file__).resolve().parents[1] / "README.md"
text = readme.read_text()
text = re.sub(
    r"(<!-- settings-table:start -->\n).*?(\n?<!-- settings-table:end -->)",
    lambda m: m.group(1) + markdown_table() + "\n" + m.group(2).lstrip("\n"),
    text,
    flags=re.S,
)
readme.write_text(text)
