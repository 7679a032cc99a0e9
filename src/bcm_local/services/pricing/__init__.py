"""The AWS Price List API (`pricing`), answered from the price list the bill is charged at
(bcm_local.billing.prices)."""
