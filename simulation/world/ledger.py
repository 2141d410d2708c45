"""The ledger: every money flow of a day, in integer cents, checked to balance.

Cash in (sales less refunds, plus entry fees) equals member payouts (net of
clawbacks) plus cost of goods plus training spending plus the platform's margin,
every day; each payout
and clawback lands in exactly one member's wallet, each fee leaves one member's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.world.people import People, State

PAYOUT_KINDS = ("direct", "override", "differential", "recruiting")


@dataclass
class DayBook:
    """One day's totals, in cents. Payout kinds are net of clawbacks."""

    day: int
    sales: int = 0
    refunds: int = 0
    fees: int = 0
    cost_of_goods: int = 0
    training: int = 0
    direct: int = 0
    override: int = 0
    differential: int = 0
    recruiting: int = 0
    clawback: int = 0
    wallets_credited: int = 0
    fees_debited: int = 0

    @property
    def payouts(self) -> int:
        return self.direct + self.override + self.differential + self.recruiting

    @property
    def margin(self) -> int:
        """What the platform keeps: cash in less payouts and cost of goods."""
        spent = self.payouts + self.cost_of_goods + self.training
        return self.sales - self.refunds + self.fees - spent

    def imbalance(self) -> int:
        """Cents by which the accounts disagree (0 when the books balance)."""
        cash_in = self.sales - self.refunds + self.fees
        cash_out = self.payouts + self.cost_of_goods + self.training + self.margin
        wallets = abs(self.wallets_credited - self.payouts)
        fees = abs(self.fees_debited - self.fees)
        return abs(cash_in - cash_out) + wallets + fees


class LedgerImbalance(RuntimeError):
    """The day's books do not balance: a bug, never an input error."""


class Ledger:
    """Posts settlements and refunds into members' wallets; keeps one DayBook per day.
    It owns the wallets: `income` (payouts received, net of clawbacks) and `fees_paid`
    (entry fees paid), in cents per person."""

    def __init__(self, people: People) -> None:
        people.declare(State("income", np.int64, 0, "payouts received, cents"), "ledger")
        people.declare(State("fees_paid", np.int64, 0, "entry fees paid, cents"), "ledger")
        self.income = people.income
        self.fees_paid = people.fees_paid
        self.books: list[DayBook] = []
        self.today = DayBook(day=0)

    def open_day(self, day: int) -> None:
        self.today = DayBook(day=day)

    def post_sales(self, sales: int, cost_of_goods: int) -> None:
        self.today.sales += sales
        self.today.cost_of_goods += cost_of_goods

    def post_training(self, cents: int) -> None:
        """The platform's spending on training and supporting members."""
        self.today.training += cents

    def post_fees(self, payers: np.ndarray, fee: int) -> None:
        """Each payer pays `fee` cents to the platform."""
        if payers.size == 0 or fee == 0:
            return
        before = int(self.fees_paid.sum())
        np.add.at(self.fees_paid, payers, fee)
        self.today.fees_debited += int(self.fees_paid.sum()) - before
        self.today.fees += fee * int(payers.size)

    def post_payouts(self, recipients: np.ndarray, cents: np.ndarray, kinds: np.ndarray) -> None:
        """Credit payout lines to members' wallets."""
        self._credit(recipients, cents, kinds)

    def post_refunds(
        self, amount: int, recipients: np.ndarray, cents: np.ndarray, kinds: np.ndarray
    ) -> None:
        """Money returned to buyers, and commission lines taken back from members' wallets."""
        self.today.refunds += amount
        self.today.clawback += int(cents.sum())
        self._credit(recipients, -cents, kinds)

    def close_day(self) -> DayBook:
        off = self.today.imbalance()
        if off:
            raise LedgerImbalance(f"day {self.today.day}: books off by {off} cents")
        self.books.append(self.today)
        return self.today

    def _credit(self, recipients: np.ndarray, cents: np.ndarray, kinds: np.ndarray) -> None:
        if recipients.size == 0:
            return
        before = int(self.income.sum())
        np.add.at(self.income, recipients, cents)
        self.today.wallets_credited += int(self.income.sum()) - before
        totals = np.bincount(kinds, weights=cents, minlength=len(PAYOUT_KINDS))
        for name, total in zip(PAYOUT_KINDS, totals, strict=True):
            setattr(self.today, name, getattr(self.today, name) + int(total))
