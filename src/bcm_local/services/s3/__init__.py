"""The built-in S3 (REST-XML)."""
