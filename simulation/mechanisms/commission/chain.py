"""Walking up the sponsor tree, skipping people who cannot be paid (compression)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class Where:
    """A per-person condition read at the ids asked for, `where[ids]`, in place of a
    boolean array over everyone: settling a day then costs the day's orders, not the
    population."""

    def __init__(self, test: Callable[[np.ndarray], np.ndarray]) -> None:
        self.test = test

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        return self.test(np.asarray(ids))


def next_upline(ids: np.ndarray, sponsor: np.ndarray, payable: np.ndarray | Where) -> np.ndarray:
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
