"""The organisation a bill describes: the scenario file and its default, account and line
ids, billing periods and hourly usage shapes."""
