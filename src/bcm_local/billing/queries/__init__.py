"""Cost Explorer's aggregations over the bill: facts (the CUR 2.0 relation projected onto
CE's dimensions and metrics), filters, cost and usage, dimension values and tags, kept
built per bill version by cache.py."""
