"""Walking up the sponsor tree, skipping people who cannot be paid (compression)."""

from __future__ import annotations

import numpy as np


def next_upline(ids: np.ndarray, sponsor: np.ndarray, payable: np.ndarray) -> np.ndarray:
    """Each id's nearest ancestor in the sponsor tree for whom `payable` holds (-1: none).

    Ancestors who left or do not qualify are passed over, so their downline is
    compressed to the next payable upline.
    """
    up = sponsor[ids]
    skip = (up >= 0) & ~payable[np.maximum(up, 0)]
    while skip.any():
        up[skip] = sponsor[up[skip]]
        skip = (up >= 0) & ~payable[np.maximum(up, 0)]
    return up
