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


def tree_position(sponsor: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each id's recruitment-tree root and its depth below it (a root is at depth 0)."""
    root = np.asarray(ids, dtype=np.int64).copy()
    depth = np.zeros(root.size, dtype=np.int64)
    while (climbing := sponsor[root] >= 0).any():
        depth[climbing] += 1
        root[climbing] = sponsor[root[climbing]]
    return root, depth
