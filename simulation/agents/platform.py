"""The platform, a Mesa agent: it advertises, enrols newcomers and settles the books."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.commission.orders import Orders, Payouts
from simulation.commission.scheme import CommissionScheme
from simulation.world.people import CONSUMER
from simulation.world.sampling import bernoulli_positions

if TYPE_CHECKING:
    from simulation.model import SocialCommerceModel


class Platform(mesa.Agent):
    """Advertising brings organic joiners and direct buyers; fees and payouts go
    through the ledger under the commission scheme."""

    def __init__(self, model: SocialCommerceModel, scheme: CommissionScheme) -> None:
        super().__init__(model)
        self.scheme = scheme
        self.config = model.scenario.platform
        self.paid_depth = 0

    def step(self) -> None:
        """Advertising: each non-member joins with probability organic_join_prob if
        joining is worth it to them; each person buys direct with organic_buy_prob."""
        model = self.model
        people, rng, day = model.people, model.rng, model.day
        reached = bernoulli_positions(people.n, self.config.organic_join_prob, rng)
        reached = reached[people.role[reached] == CONSUMER]
        members = model.members
        worth_it = members.expected_benefit(reached, 0.0) >= members.joining_cost(reached)
        self.enrol(reached[worth_it], np.full(int(worth_it.sum()), -1, dtype=np.int64))
        shoppers = bernoulli_positions(people.n, self.config.organic_buy_prob, rng)
        model.orders_today.append(model.consumers.buy_direct(shoppers, day))

    def enrol(self, newcomers: np.ndarray, sponsors: np.ndarray) -> None:
        """Make newcomers members under their sponsors and collect their entry fees."""
        model = self.model
        model.members.join(newcomers, sponsors, model.day)
        model.ledger.post_fees(newcomers, self.scheme.entry_fee_cents)
        model.newcomers_today.append(newcomers)

    def settle(self, orders: Orders, newcomers: np.ndarray) -> Payouts:
        """Post the day's sales and pay commissions and bonuses under the scheme."""
        model = self.model
        people = model.people
        model.ledger.post_sales(orders.amount, orders.cost_of_goods)
        payouts = self.scheme.settle(orders, newcomers, people.tier, people.upline)
        model.ledger.post_payouts(payouts.recipient, payouts.cents, payouts.kind)
        if payouts.level.size:
            self.paid_depth = max(self.paid_depth, int(payouts.level.max()))
        return payouts
