"""Money: RMB in scenario files and reports, whole cents inside the model."""

from __future__ import annotations


def cents(rmb: float) -> int:
    """RMB to whole cents (rounded half to even, as Python's round)."""
    return int(round(rmb * 100))
