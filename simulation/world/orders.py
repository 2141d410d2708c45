"""A day's orders, as arrays, and the payout lines that settle them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Self

import numpy as np

PLATFORM = -1
FAKE_BUYER = -2
NO_REFUND = -1
DIRECT, OVERRIDE, DIFFERENTIAL, RECRUITING = 0, 1, 2, 3


def _ints(values=()) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


class Rows:
    """A table as equal-length arrays, one dataclass field per column."""

    def take(self, rows: np.ndarray) -> Self:
        """The rows at `rows`."""
        return type(self)(*(getattr(self, f.name)[rows] for f in fields(self)))

    @classmethod
    def concat(cls, parts: list[Self]) -> Self:
        """The parts' rows, one after another."""
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))


@dataclass
class Orders(Rows):
    """One row per order. `seller` is the member credited (PLATFORM for direct sales);
    a self-purchase has seller == buyer; a fake (brushed) order has buyer FAKE_BUYER.
    Money in cents. `refund_day` is the day the order will be refunded (NO_REFUND if
    it is kept)."""

    seller: np.ndarray = field(default_factory=_ints)
    buyer: np.ndarray = field(default_factory=_ints)
    amount: np.ndarray = field(default_factory=_ints)
    cost_of_goods: np.ndarray = field(default_factory=_ints)
    buyer_is_member: np.ndarray | None = None
    refund_day: np.ndarray | None = None
    brushed: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("seller", "buyer", "amount", "cost_of_goods"):
            setattr(self, name, _ints(getattr(self, name)))
        if self.buyer_is_member is None:
            self.buyer_is_member = np.zeros(self.seller.shape, dtype=bool)
        self.buyer_is_member = np.asarray(self.buyer_is_member, dtype=bool)
        if self.refund_day is None:
            self.refund_day = np.full(self.seller.shape, NO_REFUND, dtype=np.int64)
        self.refund_day = _ints(self.refund_day)
        if self.brushed is None:
            self.brushed = np.zeros(self.seller.shape, dtype=bool)
        self.brushed = np.asarray(self.brushed, dtype=bool)

    @property
    def size(self) -> int:
        return int(self.seller.size)

    @property
    def self_purchase(self) -> np.ndarray:
        return (self.seller == self.buyer) & (self.seller != PLATFORM)


@dataclass
class Payouts(Rows):
    """One row per payout line: who is paid, how many cents, of which kind, from how
    many levels below, for which order (row in the day's orders; -1 for bonuses), and
    whether that order was fake."""

    recipient: np.ndarray
    cents: np.ndarray
    kind: np.ndarray
    level: np.ndarray
    order: np.ndarray
    brushed: np.ndarray

    @classmethod
    def empty(cls) -> Payouts:
        types = (np.int64, np.int64, np.int8, np.int64, np.int64, bool)
        return cls(*(np.empty(0, t) for t in types))

    @property
    def total(self) -> int:
        return int(self.cents.sum())

    def merged(self) -> Payouts:
        """One line per recipient, kind, level and fake-or-real, summing the cents; the
        lines no longer name an order (-1)."""
        keys = np.stack([self.recipient, self.kind, self.level, self.brushed]).astype(np.int64)
        unique, which = np.unique(keys, axis=1, return_inverse=True)
        cents = np.bincount(which.ravel(), weights=self.cents, minlength=unique.shape[1])
        return Payouts(
            recipient=unique[0],
            cents=np.rint(cents).astype(np.int64),
            kind=unique[1].astype(np.int8),
            level=unique[2],
            order=np.full(unique.shape[1], -1, np.int64),
            brushed=unique[3].astype(bool),
        )
