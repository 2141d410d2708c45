"""Refunds and clawback: orders whose refund day is today are returned and, under
clawback, their commissions taken back from the members paid (§7.6)."""

from __future__ import annotations

import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism
from simulation.mechanisms.commission.refunds import RefundQueue
from simulation.world.orders import Payouts
from simulation.world.people import State


class Refunds(Mechanism):
    """Holds each order to be returned with its payout lines until its refund day."""

    name = "refunds"
    section = "commission"
    states = (State("refunds", np.int32, 0, "the member's real sales that were refunded"),)

    def __init__(self, host: Host) -> None:
        self.returns = RefundQueue()
        super().__init__(host)

    def step(self, day: Day) -> None:
        self.returns.hold(day.settled, day.payouts)
        refund = self.returns.release(day.number)
        np.add.at(self.people.refunds, refund.sellers, 1)
        lines = refund.lines if self.config.clawback else Payouts.empty()
        self.world.ledger.post_refunds(refund.amount, refund.brushed_amount, lines)
        day.refund, day.clawed = refund, lines
