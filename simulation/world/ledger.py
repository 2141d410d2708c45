"""The ledger: every money flow of a day, in integer cents, reconciled at its close.

Each day the ledger's postings are reconciled with the members' wallets (what the
wallets gained equals the payouts posted, what they paid equals the fees posted)
and with what the day's events say they should be (`Expected`: the orders settled,
the entry fees newcomers owe and renewal fees due, the payout lines net of those
clawed back, the orders refunded). A difference stops the run, naming each figure that is off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.world.orders import Payouts
from simulation.world.people import People, State

WALLET_DAYS = 30  # days between counts of every wallet against what was posted
PAYOUT_KINDS = ("direct", "override", "differential", "recruiting")


class Figures:
    """The real business's figures and the fake orders' part, from money totals in
    cents (sales, refunds, fees, payouts, cost of goods, training, community spending and
    their brushed_* parts): one definition for a day's book and for the run's totals."""

    sales: int
    refunds: int
    fees: int
    payouts: int
    cost_of_goods: int
    training: int
    community: int
    brushed_sales: int
    brushed_cost_of_goods: int
    brushed_refunds: int
    brushed_payouts: int

    @property
    def net_sales(self) -> int:
        """Real sales less their refunds: fake orders excluded."""
        return self.sales - self.brushed_sales - (self.refunds - self.brushed_refunds)

    @property
    def net_payouts(self) -> int:
        """Payouts net of clawbacks, less those earned on fake orders."""
        return self.payouts - self.brushed_payouts

    @property
    def brushed_margin(self) -> int:
        """What fake orders added to the platform's cash: their price, less refunds of
        those caught, their cost of goods and the commissions they earned."""
        kept = self.brushed_sales - self.brushed_refunds - self.brushed_cost_of_goods
        return kept - self.brushed_payouts

    @property
    def margin(self) -> int:
        """What the platform keeps of its real business: net sales and fees less pay,
        cost of goods, training and community spending, fake orders excluded
        (`brushed_margin` beside)."""
        goods = self.cost_of_goods - self.brushed_cost_of_goods
        costs = goods + self.training + self.community
        return self.net_sales + self.fees - self.net_payouts - costs


@dataclass
class DayBook(Figures):
    """One day's totals, in cents. Payout kinds are net of clawbacks."""

    day: int
    sales: int = 0
    refunds: int = 0
    fees: int = 0
    cost_of_goods: int = 0
    training: int = 0
    community: int = 0
    direct: int = 0
    override: int = 0
    differential: int = 0
    recruiting: int = 0
    clawback: int = 0
    brushed_sales: int = 0
    brushed_cost_of_goods: int = 0
    brushed_refunds: int = 0
    brushed_payouts: int = 0

    @property
    def payouts(self) -> int:
        return self.direct + self.override + self.differential + self.recruiting


@dataclass(frozen=True)
class Expected:
    """What a day's books must show, in cents, from the day's events themselves."""

    sales: int
    fees: int
    payouts: int
    refunds: int
    brushed_sales: int = 0
    brushed_payouts: int = 0
    brushed_refunds: int = 0


class LedgerImbalance(RuntimeError):
    """The day's books do not balance: a bug, never an input error."""


class Ledger:
    """Posts settlements and refunds into members' wallets; keeps one DayBook per day.
    It owns the wallets: `income` (payouts received, net of clawbacks) and `fees_paid`
    (entry and renewal fees paid), in cents per person."""

    def __init__(self, people: People) -> None:
        people.declare(State("income", np.int64, 0, "payouts received, cents"), "ledger")
        fees = State("fees_paid", np.int64, 0, "entry and renewal fees paid, cents")
        people.declare(fees, "ledger")
        self.income = people.income
        self.fees_paid = people.fees_paid
        self.books: list[DayBook] = []
        self.today = DayBook(day=0)
        self._counted = (0, 0, 0)  # wallets and fees paid at the last count, and its day
        self._posted = (0, 0)  # payouts and fees posted since

    def open_day(self, day: int) -> None:
        self.today = DayBook(day=day)

    def post_sales(
        self, sales: int, cost_of_goods: int, brushed_sales: int = 0, brushed_cost: int = 0
    ) -> None:
        """Sales and their cost of goods, and how much of each was fake orders'."""
        self.today.sales += sales
        self.today.cost_of_goods += cost_of_goods
        self.today.brushed_sales += brushed_sales
        self.today.brushed_cost_of_goods += brushed_cost

    def post_training(self, cents: int) -> None:
        """The platform's spending on training and supporting members."""
        self.today.training += cents

    def post_community(self, cents: int) -> None:
        """The platform's spending on members' groups and events (社群)."""
        self.today.community += cents

    def post_fees(self, payers: np.ndarray, fee: int) -> None:
        """Each payer pays `fee` cents to the platform."""
        if payers.size == 0 or fee == 0:
            return
        np.add.at(self.fees_paid, payers, fee)
        self.today.fees += fee * int(payers.size)

    def post_payouts(self, lines: Payouts) -> None:
        """Credit payout lines to members' wallets."""
        self._credit(lines, 1)

    def post_refunds(self, amount: int, brushed_amount: int, lines: Payouts) -> None:
        """Money returned to buyers (`brushed_amount` of it voiding fake orders), and
        commission lines taken back from members' wallets."""
        self.today.refunds += amount
        self.today.brushed_refunds += brushed_amount
        self.today.clawback += lines.total
        self._credit(lines, -1)

    def close_day(self, expected: Expected) -> DayBook:
        """Reconcile the day and keep its book; LedgerImbalance names what is off.

        Every WALLET_DAYS days the wallets themselves are counted (`count_wallets`)."""
        book = self.today
        self._posted = (self._posted[0] + book.payouts, self._posted[1] + book.fees)
        checks = self._wallet_checks() if book.day % WALLET_DAYS == 0 else ()
        checks += (
            ("sales posted", book.sales, "orders settled", expected.sales),
            ("fees posted", book.fees, "fees owed", expected.fees),
            ("payouts posted", book.payouts, "payout lines net of clawbacks", expected.payouts),
            ("refunds posted", book.refunds, "orders refunded", expected.refunds),
            ("fake sales posted", book.brushed_sales, "fake orders", expected.brushed_sales),
            (
                "pay on fakes posted",
                book.brushed_payouts,
                "lines of fakes",
                expected.brushed_payouts,
            ),
            ("fakes voided", book.brushed_refunds, "fakes refunded", expected.brushed_refunds),
        )
        off = [f"{a} {x} but {b} {y}" for a, x, b, y in checks if x != y]
        if off:
            raise LedgerImbalance(
                f"day {book.day}: books do not reconcile (cents): " + "; ".join(off)
            )
        self.books.append(book)
        return book

    def count_wallets(self) -> None:
        """Count every wallet (a pass over everyone) against the payouts and fees posted
        since the last count; LedgerImbalance if they differ. The model counts every
        WALLET_DAYS days and when the run is summarised."""
        off = [f"{a} {x} but {b} {y}" for a, x, b, y in self._wallet_checks() if x != y]
        if off:
            raise LedgerImbalance("books do not reconcile (cents): " + "; ".join(off))

    def _wallet_checks(self) -> tuple[tuple[str, int, str, int], ...]:
        counted = (int(self.income.sum()), int(self.fees_paid.sum()), self.today.day)
        since = f"since day {self._counted[2]}"
        checks = (
            (
                "members' wallets gained",
                counted[0] - self._counted[0],
                f"payouts posted {since}",
                self._posted[0],
            ),
            (
                "members paid in fees",
                counted[1] - self._counted[1],
                f"fees posted {since}",
                self._posted[1],
            ),
        )
        self._counted, self._posted = counted, (0, 0)
        return checks

    def _credit(self, lines: Payouts, sign: int) -> None:
        if lines.recipient.size == 0:
            return
        cents = sign * lines.cents
        np.add.at(self.income, lines.recipient, cents)
        self.today.brushed_payouts += int(cents[lines.brushed].sum())
        totals = np.bincount(lines.kind, weights=cents, minlength=len(PAYOUT_KINDS))
        for name, total in zip(PAYOUT_KINDS, totals, strict=True):
            setattr(self.today, name, getattr(self.today, name) + int(total))
