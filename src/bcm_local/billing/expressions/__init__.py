"""Cost Explorer's vocabulary over the bill: its dimensions (each one's SQL over CUR 2.0
columns) and its Expression trees as SQL conditions. Below the model's users: Cost
Explorer's queries filter with them, and cost category rules categorize lines with them."""
