"""Where a delivery's files go: the seed's `floci` layout, AWS's Data Exports `aws` layout
and legacy CUR's layout, each a `pipeline.Layout`."""
