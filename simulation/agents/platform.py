"""The platform, a Mesa agent: it advertises, enrols newcomers, settles the books
and handles returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.commission.orders import Orders, Payouts
from simulation.commission.refunds import Refund, RefundQueue
from simulation.commission.scheme import CommissionScheme, Settlement
from simulation.world.people import CONSUMER, MEMBER
from simulation.world.sampling import bernoulli_positions

if TYPE_CHECKING:
    from simulation.model import SocialCommerceModel


class Platform(mesa.Agent):
    """Advertising brings organic joiners and direct buyers; fees, payouts, refunds
    and clawbacks go through the ledger under the commission scheme."""

    def __init__(self, model: SocialCommerceModel, scheme: CommissionScheme) -> None:
        super().__init__(model)
        self.scheme = scheme
        self.config = model.scenario.platform
        self.returns = RefundQueue()
        self.paid_depth = 0

    def step(self) -> None:
        """Advertising: each consumer joins with probability organic_join_prob if
        joining is worth it to them; each person buys direct with organic_buy_prob."""
        model = self.model
        people, rng, day = model.people, model.streams.platform, model.day
        reached = bernoulli_positions(people.n, self.config.organic_join_prob, rng)
        reached = reached[people.role[reached] == CONSUMER]
        members = model.members
        worth_it = members.expected_benefit(reached, 0.0) >= members.joining_cost(reached)
        self.enrol(reached[worth_it], np.full(int(worth_it.sum()), -1, dtype=np.int64))
        shoppers = bernoulli_positions(people.n, self.config.organic_buy_prob, rng)
        model.orders_today.append(model.consumers.buy_direct(shoppers, day))

    def enrol(self, newcomers: np.ndarray, sponsors: np.ndarray) -> None:
        """Make newcomers members under their sponsors; they pay at settlement."""
        model = self.model
        model.members.join(newcomers, sponsors, model.day)
        model.newcomers_today.append(newcomers)

    def settle(self, orders: Orders, newcomers: np.ndarray) -> Settlement:
        """Settle the day's orders and newcomers under the scheme and post it all."""
        model = self.model
        people, ledger = model.people, model.ledger
        settlement = self.scheme.settle(
            orders,
            newcomers,
            people.sponsor,
            people.tier,
            people.role == MEMBER,
            people.qualified,
        )
        payouts = settlement.payouts
        ledger.post_sales(settlement.sales, settlement.cost_of_goods)
        ledger.post_fees(newcomers, self.scheme.entry_fee)
        people.package_received[newcomers] += self.scheme.package_cost
        ledger.post_payouts(payouts.recipient, payouts.cents, payouts.kind)
        self.returns.hold(orders, payouts)
        if payouts.level.size:
            self.paid_depth = max(self.paid_depth, int(payouts.level.max()))
        return settlement

    def refund(self) -> Refund:
        """Return today's refunded orders' money and, under clawback, their commissions."""
        refund = self.returns.release(self.model.day)
        lines = refund.lines if self.scheme.clawback else Payouts.empty()
        self.model.ledger.post_refunds(refund.amount, lines.recipient, lines.cents, lines.kind)
        return refund
