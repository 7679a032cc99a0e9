"""bcm-local: a local emulator of AWS Data Exports, legacy CUR and S3."""

__version__ = "0.1.0"
