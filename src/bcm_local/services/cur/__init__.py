"""The legacy Cost and Usage Report API (`cur`, 2017-01-06)."""
