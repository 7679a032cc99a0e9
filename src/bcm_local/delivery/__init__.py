"""Executions, file layout, and writing delivered files to S3."""
