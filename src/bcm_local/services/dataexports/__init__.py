"""bcm-data-exports: the Data Exports management plane (JSON 1.1)."""
