"""Mechanisms: one module each, the parts of a day the model runs in order (see model.PLAN)."""
