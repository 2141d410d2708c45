"""Exposure: shares raise their receivers' fatigue, shares past tolerance erode trust
in their senders, and each sharer senses the trust its shares meet (§7.2, §7.8)."""

from __future__ import annotations

import numba
import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism, Shares
from simulation.scenario.schema import Scenario
from simulation.world.arrays import distinct, grouped, run_sum
from simulation.world.people import State
from simulation.world.threads import parallel_kernel


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
        self.seen = np.zeros(self.people.n, dtype=np.int32)  # shares so far today
        self.decays = np.empty(0)  # exp(−decay·k), k = 0 … day
        self.decays_rate = 0.0

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
        if self.decays.size != day + 1 or self.decays_rate != cfg.fatigue_decay:
            self.decays = np.exp(-cfg.fatigue_decay * np.arange(day + 1))
            self.decays_rate = cfg.fatigue_decay
        over = _expose(
            shares.receiver,
            shares.tie,
            people.fatigue,
            people.fatigue_day,
            self.decays,
            day,
            cfg.fatigue_tolerance,
            self.seen,
            numba.get_num_threads(),
        )
        if over.size and cfg.erosion > 0:
            ties, hits = distinct(over)
            self.world.trust.scale(ties, (1.0 - cfg.erosion) ** hits, day)
        return self.world.trust.read(shares.tie, day)

    def sense_circle(self, shares: Shares, met_trust: np.ndarray) -> None:
        """Each sharer's sense of its circle: a running mean (weight 0.1 a day) of the
        trust its shares met."""
        order, starts, counts = grouped(shares.sender)
        _blend_circle(self.people.circle_trust, shares.sender, met_trust, order, starts, counts)


@parallel_kernel
def _expose(
    receiver: np.ndarray,
    tie: np.ndarray,
    fatigue: np.ndarray,
    fatigue_day: np.ndarray,
    decays: np.ndarray,
    day: int,
    tolerance: float,
    seen: np.ndarray,
    parts: int,
) -> np.ndarray:
    """Raise each receiver's fatigue by its shares of the day, in order: the k-th
    (k = 1, 2, …) brings it to F·decays[day − last day] + k, and the ties of those past
    `tolerance` are returned. `seen` is per-person scratch, left at 0; F·decays[…] is
    worked out again where needed rather than kept (one array fewer to reach per
    share). Each of `parts` threads takes the receivers of one range of ids, so no two
    touch the same person."""
    people = fatigue.size
    past = np.zeros(receiver.size, dtype=np.bool_)
    early = 0
    for part in numba.prange(parts):
        low, high = part * people // parts, (part + 1) * people // parts
        for i in range(receiver.size):
            person = receiver[i]
            if person < low or person >= high:
                continue
            elapsed = day - fatigue_day[person]
            if elapsed < 0:
                early += 1
                continue
            past[i] = fatigue[person] * decays[elapsed] + seen[person] + 1 > tolerance
            seen[person] += 1
    for part in numba.prange(parts):
        low, high = part * people // parts, (part + 1) * people // parts
        for i in range(receiver.size):
            person = receiver[i]
            if person < low or person >= high or seen[person] == 0:
                continue
            if early == 0:
                fatigue[person] = fatigue[person] * decays[day - fatigue_day[person]] + seen[person]
                fatigue_day[person] = day
            seen[person] = 0
    if early > 0:
        raise ValueError("exposure on a day before the receiver's last")
    return tie[np.flatnonzero(past)]


@parallel_kernel
def _blend_circle(
    circle: np.ndarray,
    sender: np.ndarray,
    met_trust: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    counts: np.ndarray,
) -> None:
    """For each run of one sender's shares (`grouped`): circle ← 0.9·circle + 0.1·mean
    trust met, in place, with NumPy's arithmetic for float32 `circle` and float64
    `met_trust` (0.9·circle in float32, the sum in float64, rounded on storing)."""
    for run in numba.prange(starts.size):
        first = starts[run]
        member = sender[order[first]]
        today = run_sum(met_trust, order, first, counts[run]) / counts[run]
        circle[member] = np.float64(np.float32(0.9) * circle[member]) + 0.1 * today
