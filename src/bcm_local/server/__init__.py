"""HTTP front: one ASGI app, AWS wire protocols driven by botocore models, auth, errors."""
