"""One package per AWS service; `registry.SERVICES` lists them."""
