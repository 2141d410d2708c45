"""Running totals of a run, for ratios over the whole run so far."""

from __future__ import annotations

from dataclasses import dataclass

from simulation.commission.orders import Orders
from simulation.commission.refunds import Refund
from simulation.world.ledger import DayBook


@dataclass
class RunTotals:
    """Cumulative money (cents) and counts since day 1."""

    sales: int = 0
    refunds: int = 0
    fees: int = 0
    payouts: int = 0
    recruiting: int = 0
    cost_of_goods: int = 0
    training: int = 0
    member_bought: int = 0
    orders: int = 0
    refunded_orders: int = 0
    exposures: int = 0
    brushed: int = 0
    brushed_caught: int = 0
    banned: int = 0
    switched: int = 0

    def add(
        self,
        book: DayBook,
        orders: Orders,
        refund: Refund,
        exposures: int,
        banned: int,
        switched: int,
    ) -> None:
        self.sales += book.sales
        self.refunds += book.refunds
        self.fees += book.fees
        self.payouts += book.payouts
        self.recruiting += book.recruiting
        self.cost_of_goods += book.cost_of_goods
        self.training += book.training
        self.member_bought += int(orders.amount[orders.buyer_is_member].sum())
        self.orders += orders.size
        self.refunded_orders += refund.orders
        self.exposures += exposures
        self.brushed += int(orders.brushed.sum())
        self.brushed_caught += int((orders.brushed & (orders.refund_day >= 0)).sum())
        self.banned += banned
        self.switched += switched

    @property
    def margin(self) -> int:
        spent = self.payouts + self.cost_of_goods + self.training
        return self.sales - self.refunds + self.fees - spent
