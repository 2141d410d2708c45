"""Per-person state as a struct of arrays: a person is an index into each array."""

from __future__ import annotations

import numpy as np

CONSUMER, MEMBER, FORMER = 0, 1, 2
NEVER = -(10**6)


class People:
    """Everyone on the graph: role, sponsor, tier, traits, money and market state."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.role = np.zeros(n, dtype=np.int8)
        self.sponsor = np.full(n, -1, dtype=np.int64)
        self.joined_day = np.full(n, NEVER, dtype=np.int32)
        self.left_day = np.full(n, NEVER, dtype=np.int32)
        self.tier = np.zeros(n, dtype=np.int8)
        self.effort = np.zeros(n, dtype=np.float32)
        self.need = np.zeros(n, dtype=np.float32)
        self.join_cost = np.zeros(n, dtype=np.float32)
        self.income = np.zeros(n, dtype=np.int64)
        self.fees_paid = np.zeros(n, dtype=np.int64)
        self.sales = np.zeros(n, dtype=np.int64)
        self.last_active_day = np.full(n, NEVER, dtype=np.int32)
        self.fatigue = np.zeros(n, dtype=np.float32)
        self.fatigue_day = np.zeros(n, dtype=np.int32)
        self.next_due = np.full(n, NEVER, dtype=np.int32)
        self.last_seller = np.full(n, -1, dtype=np.int64)
        self.last_tie = np.full(n, -1, dtype=np.int64)

    @property
    def members(self) -> np.ndarray:
        """Ids of current members."""
        return np.flatnonzero(self.role == MEMBER)

    @property
    def ever_members(self) -> np.ndarray:
        """Ids of current and former members."""
        return np.flatnonzero(self.role != CONSUMER)

    def net_income(self, ids: np.ndarray) -> np.ndarray:
        """Payouts received less entry fees paid, in cents."""
        return self.income[ids] - self.fees_paid[ids]

    def upline(self, ids: np.ndarray) -> np.ndarray:
        """Each person's nearest sponsor who is still a member (-1 if none).

        Departed sponsors are skipped and the shortcut is written back, which is
        how a departed member's downline is compressed to the next active upline.
        """
        up = self.sponsor[ids].copy()
        gone = (up >= 0) & (self.role[np.maximum(up, 0)] != MEMBER)
        while gone.any():
            up[gone] = self.sponsor[up[gone]]
            gone = (up >= 0) & (self.role[np.maximum(up, 0)] != MEMBER)
        members = self.role[ids] == MEMBER
        self.sponsor[ids[members]] = up[members]
        return up

    def decayed_fatigue(self, ids: np.ndarray, day: int, decay: float) -> np.ndarray:
        """Fatigue of `ids` as of `day`, decayed exponentially since last touched."""
        elapsed = day - self.fatigue_day[ids]
        return self.fatigue[ids] * np.exp(-decay * elapsed)
