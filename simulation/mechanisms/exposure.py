"""Exposure: shares raise their receivers' fatigue, shares past tolerance erode trust
in their senders, and each sharer senses the trust its shares meet (§7.2, §7.8)."""

from __future__ import annotations

import numba
import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism, Shares
from simulation.scenario.schema import Scenario
from simulation.world.arrays import distinct, grouped
from simulation.world.people import State


class Exposure(Mechanism):
    """Fatigue is a decayed count of shares received, read lazily; each share past
    `trust.fatigue_tolerance` cuts the receiver's trust in its sender by `erosion`."""

    name = "exposure"
    section = "trust"
    states = (
        State("fatigue", np.float32, 0.0, "decayed count of shares received"),
        State("fatigue_day", np.int32, 0, "day fatigue was last updated"),
        State("circle_trust", np.float32, 0.0, "running mean of trust a member's shares met"),
    )

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.people.circle_trust[:] = host.policy.trust.baseline

    def configure(self, policy: Scenario) -> None:
        super().configure(policy)
        self.world.trust.configure(policy.trust)

    def step(self, day: Day) -> None:
        day.met_trust = self.receive(day.shares, day.number)
        self.sense_circle(day.shares, day.met_trust)

    def receive(self, shares: Shares, day: int) -> np.ndarray:
        """Raise receivers' fatigue; erode trust past tolerance. Returns the trust each
        share met, after erosion."""
        cfg = self.config
        people = self.people
        order, starts, counts = grouped(shares.receiver)
        targets = shares.receiver[order[starts]]
        level_before = self.fatigue_of(targets, day)
        over = _past_tolerance(
            shares.tie, order, starts, counts, level_before, cfg.fatigue_tolerance
        )
        if over.size and cfg.erosion > 0:
            ties, hits = distinct(over)
            self.world.trust.scale(ties, (1.0 - cfg.erosion) ** hits, day)
        people.fatigue[targets] = level_before + counts
        people.fatigue_day[targets] = day
        return self.world.trust.read(shares.tie, day)

    def fatigue_of(self, ids: np.ndarray, day: int) -> np.ndarray:
        """Fatigue of `ids` as of `day`, decayed exponentially since last touched."""
        elapsed = day - self.people.fatigue_day[ids]
        return self.people.fatigue[ids] * np.exp(-self.config.fatigue_decay * elapsed)

    def sense_circle(self, shares: Shares, met_trust: np.ndarray) -> None:
        """Each sharer's sense of its circle: a running mean (weight 0.1 a day) of the
        trust its shares met."""
        order, starts, counts = grouped(shares.sender)
        if starts.size == 0:
            return
        senders = shares.sender[order][starts]
        today = np.add.reduceat(met_trust[order], starts) / counts
        circle = self.people.circle_trust
        circle[senders] = 0.9 * circle[senders] + 0.1 * today


@numba.njit(cache=True)
def _past_tolerance(
    tie: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    counts: np.ndarray,
    level_before: np.ndarray,
    tolerance: float,
) -> np.ndarray:
    """The ties of the shares each receiver gets past its tolerance: the k-th share of
    the day (k = 1, 2, …) brings its fatigue to level_before + k."""
    over = np.empty(order.size, dtype=tie.dtype)
    found = 0
    for group in range(starts.size):
        for rank in range(counts[group]):
            if level_before[group] + rank + 1 > tolerance:
                over[found] = tie[order[starts[group] + rank]]
                found += 1
    return over[:found]
