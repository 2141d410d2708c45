"""Orders that will be returned, held with their payout lines until their refund day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.world.orders import Orders, Payouts


@dataclass
class Refund:
    """Refunds falling due on one day: money back to buyers, the lines to claw back, and
    the members whose (real) sales were returned."""

    orders: int
    amount: int
    lines: Payouts
    sellers: np.ndarray
    brushed_amount: int = 0


class RefundQueue:
    """Holds each refunded order's amount and commission lines until it is returned."""

    def __init__(self) -> None:
        self._due: dict[int, list[Refund]] = {}

    def hold(self, orders: Orders, payouts: Payouts) -> None:
        """Keep the orders with a refund day, and the payout lines they generated."""
        refunded = orders.refund_day >= 0
        if not refunded.any():
            return
        line_day = np.where(payouts.order >= 0, orders.refund_day[np.maximum(payouts.order, 0)], -1)
        for day in np.unique(orders.refund_day[refunded]):
            rows = orders.refund_day == day
            self._due.setdefault(int(day), []).append(
                Refund(
                    orders=int(rows.sum()),
                    amount=int(orders.amount[rows].sum()),
                    lines=payouts.take(np.flatnonzero(line_day == day)),
                    sellers=orders.seller[rows & (orders.seller >= 0) & ~orders.brushed],
                    brushed_amount=int(orders.amount[rows & orders.brushed].sum()),
                )
            )

    def release(self, day: int) -> Refund:
        """Everything that falls due on `day` (removed from the queue)."""
        parts = self._due.pop(day, [])
        return Refund(
            orders=sum(p.orders for p in parts),
            amount=sum(p.amount for p in parts),
            lines=Payouts.concat([Payouts.empty(), *(p.lines for p in parts)]),
            sellers=np.concatenate([np.empty(0, np.int64), *(p.sellers for p in parts)]),
            brushed_amount=sum(p.brushed_amount for p in parts),
        )
