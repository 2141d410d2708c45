"""Per-tie trust: a receiver's trust in a sender, recovering lazily toward a baseline.

A tie stores the trust it was left at and the day it was last touched; reading it
applies the recovery since then, T(t) = b + (T₀ − b)·exp(−ρ·(t − t₀)), so untouched
ties cost nothing per day.
"""

from __future__ import annotations

import numba
import numpy as np

from simulation.scenario.schema import TrustConfig
from simulation.world.arrays import fill
from simulation.world.graph import ContactGraph
from simulation.world.threads import parallel_kernel

TIE = np.dtype([("value", np.float32), ("touched", np.int32)])


class TieTrust:
    """Trust on every tie of a graph; dense arrays for a stored graph, sparse otherwise."""

    def __init__(self, graph: ContactGraph, config: TrustConfig) -> None:
        self.configure(config)
        baseline = config.baseline
        self.dense = graph.dense_ties
        size = graph.n_ties if self.dense else 0
        self._keys = np.empty(0, dtype=np.int64)
        self._store(size)
        fill(self._value, baseline)
        fill(self._touched, 0)  # written now, not page by page later
        self._decays = np.empty(0)
        self._decays_rate = self.recovery_rate

    def _store(self, size: int) -> None:
        """Room for `size` ties: each tie's trust and the day it was last touched side
        by side, so that reading a tie brings both in one cache line."""
        ties = np.empty(size, dtype=TIE)
        self._value, self._touched = ties["value"], ties["touched"]

    def configure(self, config: TrustConfig) -> None:
        """The baseline trust returns to, and how fast; a change applies from now on to
        every tie, as each is next read."""
        self.baseline = config.baseline
        self.recovery_rate = config.recovery_rate

    def read(self, ties: np.ndarray, day: int) -> np.ndarray:
        """Trust on `ties` as of `day`."""
        if self.dense and ties.size:
            trust = _recovered(
                self._value, self._touched, ties, day, self.baseline, self._decay(day)
            )
            if trust.size == ties.size:
                return trust
        slots, known = self._locate(ties)
        trust = np.full(ties.shape, self.baseline)
        left = self._value[slots[known]].astype(np.float64)
        elapsed = day - self._touched[slots[known]]
        recovery = np.exp(-self.recovery_rate * elapsed)
        trust[known] = self.baseline + (left - self.baseline) * recovery
        return trust

    def _decay(self, day: int) -> np.ndarray:
        """exp(−ρ·k) for k = 0 … day: the recovery factor after k days untouched."""
        if self._decays.size != day + 1 or self._decays_rate != self.recovery_rate:
            self._decays = np.exp(-self.recovery_rate * np.arange(day + 1))
            self._decays_rate = self.recovery_rate
        return self._decays

    def write(self, ties: np.ndarray, trust: np.ndarray, day: int) -> None:
        """Set trust on distinct `ties` as of `day`."""
        if not self.dense:
            self._insert(ties)
        slots, _ = self._locate(ties)
        self._value[slots] = np.clip(trust, 0.0, 1.0)
        self._touched[slots] = day

    def scale(self, ties: np.ndarray, factor: np.ndarray, day: int) -> None:
        """Multiply trust on distinct `ties` by `factor` (erosion, bad experiences)."""
        if self.dense and ties.size and np.shape(factor) == ties.shape:
            decays = self._decay(day)
            if _scaled(self._value, self._touched, ties, factor, day, self.baseline, decays):
                return
        self.write(ties, self.read(ties, day) * factor, day)

    def raise_toward_one(self, ties: np.ndarray, share: float, day: int) -> None:
        """Close `share` of the gap between trust on distinct `ties` and full trust."""
        trust = self.read(ties, day)
        self.write(ties, trust + share * (1.0 - trust), day)

    def _locate(self, ties: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.dense:
            return ties, np.ones(ties.shape, dtype=bool)
        slots = np.searchsorted(self._keys, ties)
        slots = np.minimum(slots, max(self._keys.size - 1, 0))
        known = self._keys[slots] == ties if self._keys.size else np.zeros(ties.shape, bool)
        return slots, known

    def _insert(self, ties: np.ndarray) -> None:
        _, known = self._locate(ties)
        fresh = ties[~known]
        if fresh.size == 0:
            return
        keys = np.concatenate([self._keys, fresh])
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        value = np.concatenate([self._value, np.full(fresh.size, self.baseline, np.float32)])
        touched = np.concatenate([self._touched, np.zeros(fresh.size, np.int32)])
        self._store(keys.size)
        self._value[:] = value[order]
        self._touched[:] = touched[order]


@parallel_kernel
def _recovered(
    value: np.ndarray,
    touched: np.ndarray,
    ties: np.ndarray,
    day: int,
    baseline: float,
    decays: np.ndarray,
) -> np.ndarray:
    """Trust on dense `ties` as of `day`, b + (T₀ − b)·decays[day − t₀]; an empty array
    if a tie was touched after `day` (the caller then computes it directly)."""
    trust = np.empty(ties.size, dtype=np.float64)
    outside = 0
    for i in numba.prange(ties.size):
        tie = ties[i]
        elapsed = day - touched[tie]
        if elapsed < 0 or elapsed >= decays.size:
            outside += 1
        else:
            trust[i] = _recovery(value[tie], elapsed, baseline, decays)
    return trust if outside == 0 else np.empty(0, dtype=np.float64)


@parallel_kernel
def _scaled(
    value: np.ndarray,
    touched: np.ndarray,
    ties: np.ndarray,
    factor: np.ndarray,
    day: int,
    baseline: float,
    decays: np.ndarray,
) -> bool:
    """`TieTrust.scale` on dense, distinct `ties` in one pass, as read, multiply, clip
    to [0, 1] and write would do it; False, with nothing written, if a tie was touched
    after `day` (the caller then takes the general way)."""
    outside = 0
    for i in numba.prange(ties.size):
        elapsed = day - touched[ties[i]]
        if elapsed < 0 or elapsed >= decays.size:
            outside += 1
    if outside > 0:
        return False
    for i in numba.prange(ties.size):
        tie = ties[i]
        trust = _recovery(value[tie], day - touched[tie], baseline, decays)
        value[tie] = np.float32(min(max(trust * factor[i], 0.0), 1.0))
        touched[tie] = day
    return True


@numba.njit(cache=True)
def _recovery(left: np.float32, elapsed: int, baseline: float, decays: np.ndarray) -> float:
    """Trust left at `left` after `elapsed` untouched days: b + (T₀ − b)·decays[elapsed]."""
    return baseline + (np.float64(left) - baseline) * decays[elapsed]
