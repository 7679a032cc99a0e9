"""The bill in DuckDB: usage lines as columns (`lines`), their time slots (`pat`) and the
views every table selects from."""
