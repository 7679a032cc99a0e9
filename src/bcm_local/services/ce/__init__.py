"""Cost Explorer (`ce`, 2017-10-25): cost and usage queries over the bill the exports
deliver (the aggregations are in billing/queries)."""
