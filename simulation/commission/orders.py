"""Orders and enrolments of a day, as arrays, and the payout lines settling them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PLATFORM = -1
DIRECT, OVERRIDE, RECRUITING = 0, 1, 2


def _ints(values=()) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


@dataclass
class Orders:
    """One row per order. `seller` is the member credited (PLATFORM for direct sales);
    a self-purchase has seller == buyer. Money in cents."""

    seller: np.ndarray = field(default_factory=_ints)
    buyer: np.ndarray = field(default_factory=_ints)
    amount: np.ndarray = field(default_factory=_ints)
    cost_of_goods: np.ndarray = field(default_factory=_ints)

    def __post_init__(self) -> None:
        for name in ("seller", "buyer", "amount", "cost_of_goods"):
            setattr(self, name, _ints(getattr(self, name)))

    @property
    def size(self) -> int:
        return int(self.seller.size)

    @property
    def self_purchase(self) -> np.ndarray:
        return (self.seller == self.buyer) & (self.seller != PLATFORM)

    @classmethod
    def concat(cls, parts: list[Orders]) -> Orders:
        return cls(
            *(
                np.concatenate([getattr(p, name) for p in parts])
                for name in ("seller", "buyer", "amount", "cost_of_goods")
            )
        )


@dataclass
class Payouts:
    """One row per payout line: who is paid, how many cents, of which kind, from how far down."""

    recipient: np.ndarray
    cents: np.ndarray
    kind: np.ndarray
    level: np.ndarray

    @property
    def total(self) -> int:
        return int(self.cents.sum())

    def by_recipient(self, n: int) -> np.ndarray:
        """Cents per person, for people 0..n-1."""
        return np.bincount(self.recipient, weights=self.cents, minlength=n).astype(np.int64)
