"""Cost Explorer's commitment operations: utilization and coverage of reservations and
Savings Plans (reservations.py, savings_plans.py, over what request.py shares), purchase
recommendations (purchases.py), commitment purchase analyses (analyses.py) and rightsizing
(rightsizing.py). Every figure follows from the bill and the catalog that priced it."""
