"""The built-in object store: buckets and objects in SQLite, their bytes in blob files. The
S3 API serves it (services/s3), deliveries write into it (delivery/sink.py) and the bill's
own S3 usage reads its statistics (billing/usage/emulator_s3.py)."""
