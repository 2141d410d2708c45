"""Per-person state as a struct of arrays: a person is an index into each array."""

from __future__ import annotations

import numpy as np

CONSUMER, MEMBER, FORMER = 0, 1, 2
NEVER = -(10**6)


class People:
    """Everyone on the graph: role, recruitment tree, tier, traits, money, market state.

    `root` and `depth` place a member in the recruitment tree as it was when the
    member joined; `tree_size` and `tree_levels`, indexed by a root, describe that
    root's whole tree (everyone ever recruited into it, and its depth).
    """

    def __init__(self, n: int, products: int = 1) -> None:
        self.n = n
        self._members: np.ndarray | None = None
        self.role = np.zeros(n, dtype=np.int8)
        self.sponsor = np.full(n, -1, dtype=np.int64)
        self.root = np.full(n, -1, dtype=np.int64)
        self.depth = np.zeros(n, dtype=np.int32)
        self.tree_size = np.zeros(n, dtype=np.int64)
        self.tree_levels = np.zeros(n, dtype=np.int32)
        self.qualified = np.zeros(n, dtype=bool)
        self.joined_day = np.full(n, NEVER, dtype=np.int32)
        self.left_day = np.full(n, NEVER, dtype=np.int32)
        self.tier = np.zeros(n, dtype=np.int8)
        self.effort = np.zeros(n, dtype=np.float32)
        self.hype = np.zeros(n, dtype=np.float32)
        self.multi_homing = np.zeros(n, dtype=bool)
        self.platform_trust = np.zeros(n, dtype=np.float32)
        self.circle_trust = np.zeros(n, dtype=np.float32)
        self.need = np.zeros((n, products), dtype=np.float32)
        self.join_cost = np.zeros(n, dtype=np.float32)
        self.income = np.zeros(n, dtype=np.int64)
        self.fees_paid = np.zeros(n, dtype=np.int64)
        self.package_received = np.zeros(n, dtype=np.int64)
        self.brush_cost = np.zeros(n, dtype=np.int64)
        self.trained = np.zeros(n, dtype=np.int64)
        self.refunds = np.zeros(n, dtype=np.int32)
        self.sales = np.zeros(n, dtype=np.int64)
        self.sales_at_period_start = np.zeros(n, dtype=np.int64)
        self.last_active_day = np.full(n, NEVER, dtype=np.int32)
        self.fatigue = np.zeros(n, dtype=np.float32)
        self.fatigue_day = np.zeros(n, dtype=np.int32)
        self.next_due = np.full(n, NEVER, dtype=np.int32)
        self.last_seller = np.full(n, -1, dtype=np.int64)
        self.last_tie = np.full(n, -1, dtype=np.int64)
        self.last_order_day = np.full(n, NEVER, dtype=np.int32)
        self.last_product = np.zeros(n, dtype=np.int64)

    @property
    def members(self) -> np.ndarray:
        """Ids of current members (kept until someone joins or leaves)."""
        if self._members is None:
            self._members = np.flatnonzero(self.role == MEMBER)
        return self._members

    def set_role(self, ids: np.ndarray, role: int) -> None:
        """Make `ids` members, or former members; the one way roles change."""
        self.role[ids] = role
        self._members = None

    @property
    def ever_members(self) -> np.ndarray:
        """Ids of current and former members."""
        return np.flatnonzero(self.role != CONSUMER)

    def net_income(self, ids: np.ndarray) -> np.ndarray:
        """Payouts received less entry fees paid (net of the cost of goods of any gift
        package the fee bought) and less what brushing cost, in cents."""
        income = self.income[ids] - self.fees_paid[ids] + self.package_received[ids]
        return income - self.brush_cost[ids]

    def retail_customers(self, since: int) -> np.ndarray:
        """Per person: distinct outside customers (non-members) whose last order, placed
        on or after day `since`, was from this person."""
        recent = (self.last_order_day >= since) & (self.role != MEMBER) & (self.last_seller >= 0)
        return np.bincount(self.last_seller[recent], minlength=self.n)

    def decayed_fatigue(self, ids: np.ndarray, day: int, decay: float) -> np.ndarray:
        """Fatigue of `ids` as of `day`, decayed exponentially since last touched."""
        elapsed = day - self.fatigue_day[ids]
        return self.fatigue[ids] * np.exp(-decay * elapsed)
