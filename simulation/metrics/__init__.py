"""Metrics: one row of figures per day, and the run's summary."""
