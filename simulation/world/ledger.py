"""The ledger: every money flow of a day, in integer cents, checked to balance.

Cash in (sales and entry fees) equals member payouts plus cost of goods plus the
platform's margin, every day, and each payout lands in exactly one member's wallet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

PAYOUT_KINDS = ("direct", "override", "recruiting")


@dataclass
class DayBook:
    """One day's totals, in cents."""

    day: int
    sales: int = 0
    fees: int = 0
    cost_of_goods: int = 0
    direct: int = 0
    override: int = 0
    recruiting: int = 0
    wallets_credited: int = 0
    fees_debited: int = 0

    @property
    def payouts(self) -> int:
        return self.direct + self.override + self.recruiting

    @property
    def margin(self) -> int:
        """What the platform keeps: cash in less payouts and cost of goods."""
        return self.sales + self.fees - self.payouts - self.cost_of_goods

    def imbalance(self) -> int:
        """Cents by which the accounts disagree (0 when the books balance)."""
        cash_in = self.sales + self.fees
        cash_out = self.payouts + self.cost_of_goods + self.margin
        wallets = abs(self.wallets_credited - self.payouts)
        fees = abs(self.fees_debited - self.fees)
        return abs(cash_in - cash_out) + wallets + fees

    def as_dict(self) -> dict:
        return asdict(self) | {"payouts": self.payouts, "margin": self.margin}


class LedgerImbalance(RuntimeError):
    """The day's books do not balance: a bug, never an input error."""


class Ledger:
    """Posts sales, fees, cost of goods and payouts; keeps one DayBook per day."""

    def __init__(self, income: np.ndarray, fees_paid: np.ndarray) -> None:
        self.income = income
        self.fees_paid = fees_paid
        self.books: list[DayBook] = []
        self.today = DayBook(day=0)

    def open_day(self, day: int) -> None:
        self.today = DayBook(day=day)

    def post_sales(self, amount: np.ndarray, cost_of_goods: np.ndarray) -> None:
        self.today.sales += int(amount.sum())
        self.today.cost_of_goods += int(cost_of_goods.sum())

    def post_fees(self, payers: np.ndarray, fee: int) -> None:
        np.add.at(self.fees_paid, payers, fee)
        self.today.fees += fee * int(payers.size)
        self.today.fees_debited += fee * int(payers.size)

    def post_payouts(self, recipients: np.ndarray, cents: np.ndarray, kinds: np.ndarray) -> None:
        before = int(self.income.sum()) if recipients.size else 0
        np.add.at(self.income, recipients, cents)
        self.today.wallets_credited += (int(self.income.sum()) - before) if recipients.size else 0
        totals = np.bincount(kinds, weights=cents, minlength=len(PAYOUT_KINDS))
        for name, total in zip(PAYOUT_KINDS, totals, strict=True):
            setattr(self.today, name, getattr(self.today, name) + int(total))

    def close_day(self) -> DayBook:
        off = self.today.imbalance()
        if off:
            raise LedgerImbalance(f"day {self.today.day}: books off by {off} cents")
        self.books.append(self.today)
        return self.today
