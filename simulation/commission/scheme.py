"""A commission scheme and its settlement of a day's orders and enrolments.

Direct commission by the seller's tier, overrides d levels up the sponsor chain,
recruiting bonuses d levels up from a newcomer, all scaled pro rata when the day's
payouts would exceed the cap, then rounded down to whole cents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulation.commission.orders import (
    DIRECT,
    OVERRIDE,
    PLATFORM,
    RECRUITING,
    Orders,
    Payouts,
)
from simulation.scenario.schema import CommissionConfig

Upline = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class CommissionScheme:
    """Rates and bonuses of a plan; `settle` turns orders and newcomers into payouts."""

    direct_rate: np.ndarray
    override_rates: np.ndarray
    recruiting_bonus_cents: np.ndarray
    entry_fee_cents: int
    payout_cap: float

    @classmethod
    def from_config(cls, config: CommissionConfig) -> CommissionScheme:
        return cls(
            direct_rate=np.asarray(config.direct_rate, dtype=np.float64),
            override_rates=np.asarray(config.override_rates, dtype=np.float64),
            recruiting_bonus_cents=np.round(np.asarray(config.recruiting_bonus) * 100).astype(
                np.int64
            ),
            entry_fee_cents=int(round(config.entry_fee * 100)),
            payout_cap=config.payout_cap,
        )

    @property
    def paid_levels(self) -> int:
        """How many levels above a sale or a newcomer the scheme can pay."""
        overrides = np.flatnonzero(self.override_rates > 0)
        bonuses = np.flatnonzero(self.recruiting_bonus_cents > 0)
        return int(max(overrides.max(initial=-1), bonuses.max(initial=-1)) + 1)

    def settle(
        self, orders: Orders, newcomers: np.ndarray, tier: np.ndarray, upline: Upline
    ) -> Payouts:
        """Payout lines for a day's `orders` and `newcomers`.

        `tier` gives each person's tier; `upline(ids)` gives each id's nearest active
        sponsor or -1. Self-purchases earn no direct commission (the member had the
        discount) but do pay overrides up the chain.
        """
        lines: list[tuple[np.ndarray, np.ndarray, int, int]] = []
        sold = orders.seller != PLATFORM
        direct = sold & ~orders.self_purchase
        sellers = orders.seller[direct]
        lines.append((sellers, orders.amount[direct] * self.direct_rate[tier[sellers]], DIRECT, 0))
        lines += self._up_chain(
            orders.seller[sold],
            orders.amount[sold].astype(np.float64),
            self.override_rates,
            OVERRIDE,
            upline,
        )
        lines += self._up_chain(
            np.asarray(newcomers, dtype=np.int64),
            np.ones(len(newcomers)),
            self.recruiting_bonus_cents.astype(np.float64),
            RECRUITING,
            upline,
        )
        recipient = np.concatenate([line[0] for line in lines])
        raw = np.concatenate([line[1] for line in lines])
        kind = np.concatenate([np.full(line[0].size, line[2], np.int8) for line in lines])
        level = np.concatenate([np.full(line[0].size, line[3], np.int16) for line in lines])
        gmv = int(orders.amount.sum())
        total = raw.sum()
        if self.payout_cap > 0 and total > self.payout_cap * gmv:
            raw = raw * (self.payout_cap * gmv / total)
        cents = np.floor(raw + 1e-9).astype(np.int64)
        paid = cents > 0
        return Payouts(recipient[paid], cents[paid], kind[paid], level[paid])

    @staticmethod
    def _up_chain(
        origin: np.ndarray, base: np.ndarray, per_level: np.ndarray, kind: int, upline: Upline
    ) -> list[tuple[np.ndarray, np.ndarray, int, int]]:
        """Lines paying `per_level[d-1] × base` to the d-th active upline of each origin."""
        lines = []
        current = origin
        for depth, rate in enumerate(per_level, start=1):
            if current.size == 0:
                break
            current = upline(current)
            has = current >= 0
            current, base = current[has], base[has]
            if rate > 0:
                lines.append((current, base * rate, kind, depth))
        return lines
