"""`make bench`: measured figures on generated data (never timed tests)."""
