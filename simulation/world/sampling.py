"""Event-proportional random sampling over long virtual sequences of trials."""

from __future__ import annotations

import numpy as np


def bernoulli_positions(length: int, prob: float, rng: np.random.Generator) -> np.ndarray:
    """Positions of successes in `length` independent Bernoulli(`prob`) trials.

    Draws geometric gaps between successes, so the work is proportional to the
    number of successes, not to `length`.
    """
    if length <= 0 or prob <= 0.0:
        return np.empty(0, dtype=np.int64)
    if prob >= 1.0:
        return np.arange(length, dtype=np.int64)
    expected = length * prob
    chunks = []
    last = -1
    while last < length - 1:
        batch = int(expected + 6.0 * np.sqrt(expected) + 16)
        steps = rng.geometric(prob, size=batch).astype(np.int64)
        positions = last + np.cumsum(steps)
        chunks.append(positions)
        last = int(positions[-1])
    positions = np.concatenate(chunks)
    return positions[positions < length]


def segment_of(positions: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map positions in the concatenation of segments of `sizes` to (segment, offset)."""
    ends = np.cumsum(sizes, dtype=np.int64)
    segment = np.searchsorted(ends, positions, side="right")
    offset = positions - (ends[segment] - sizes[segment])
    return segment, offset
