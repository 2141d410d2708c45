"""Small helpers shared by the populations: draws and picks over event arrays."""

from __future__ import annotations

import numpy as np


def beta_with_mean(mean: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draws in [0, 1] with the given mean (Beta with concentration 4; constant at 0 or 1)."""
    if mean <= 0.0 or mean >= 1.0:
        return np.full(size, mean)
    return rng.beta(4.0 * mean, 4.0 * (1.0 - mean), size=size)


def one_per(keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices choosing one entry per distinct key, uniformly among that key's entries."""
    if keys.size == 0:
        return np.empty(0, dtype=np.int64)
    shuffled = rng.permutation(keys.size)
    _, first = np.unique(keys[shuffled], return_index=True)
    return shuffled[first]


def cents(rmb: float) -> int:
    """RMB to whole cents."""
    return int(round(rmb * 100))
