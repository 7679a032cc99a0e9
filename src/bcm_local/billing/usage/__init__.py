"""Usage: the enumerator interface, the synthetic enumerator with its meters per resource
family and its commitments, and the emulator's own S3 usage."""
