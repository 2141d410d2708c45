"""Money: RMB in scenario files and reports, whole cents inside the model. The one
place RMB become cents."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def cents(rmb: float) -> int:
    """RMB to whole cents (rounded half to even, as Python's round)."""
    return int(round(rmb * 100))


def cents_array(rmb: Sequence[float]) -> np.ndarray:
    """RMB amounts to whole cents, as int64 (rounded half to even, as `cents`)."""
    return np.round(np.asarray(rmb, dtype=np.float64) * 100).astype(np.int64)
