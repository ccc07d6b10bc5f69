"""`make bench`: the budgets cronbeat promises, measured as ratios taken in one run."""
