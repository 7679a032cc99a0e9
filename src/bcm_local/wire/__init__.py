"""The AWS wire vocabulary shared by the server, the console and the services: AWS errors,
HTTP messages, streaming request bodies, timestamps and the botocore service models."""
