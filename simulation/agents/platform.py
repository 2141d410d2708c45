"""The platform, a Mesa agent: it advertises, enrols newcomers, settles the books
and handles returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.commission.orders import Orders, Payouts
from simulation.commission.refunds import Refund, RefundQueue
from simulation.commission.scheme import CommissionScheme, Settlement
from simulation.scenario.loading import with_overrides
from simulation.scenario.schema import Scenario
from simulation.world.people import CONSUMER, MEMBER
from simulation.world.sampling import bernoulli_positions

if TYPE_CHECKING:
    from simulation.model import SocialCommerceModel


class Platform(mesa.Agent):
    """Advertising brings organic joiners and direct buyers; fees, payouts, refunds
    and clawbacks go through the ledger under the commission scheme."""

    def __init__(self, model: SocialCommerceModel, scenario: Scenario) -> None:
        super().__init__(model)
        self.returns = RefundQueue()
        self.paid_depth = 0
        self.configure(scenario)

    def configure(self, scenario: Scenario) -> None:
        """Take up a (new) policy: the commission scheme and the platform's own rules."""
        self.scheme = CommissionScheme.from_scenario(scenario)
        self.config = scenario.platform

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
        if self.config.target_payout_ratio > 0 and day > 1:
            self.steer_payouts(day)
        self.train(people.members)

    def train(self, members: np.ndarray) -> None:
        """Spend the day's training budget on every member, plus its tier's extra; it is a
        cost to the platform."""
        people = self.model.people
        extra = np.array([round(t.training * 100) for t in self.model.policy.tiers])
        spend = round(self.config.training_budget * 100) + extra[people.tier[members]]
        if members.size == 0 or not spend.any():
            return
        people.trained[members] += spend
        self.model.ledger.post_training(int(spend.sum()))

    def steer_payouts(self, day: int) -> None:
        """Every feedback_days, move every direct rate one step toward the target payout
        ratio, judged on the period just ended."""
        period = self.config.feedback_days
        if (day - 1) % period:
            return
        books = self.model.ledger.books[-period:]
        net_sales = sum(b.sales - b.refunds for b in books)
        if net_sales <= 0:
            return
        ratio = sum(b.payouts for b in books) / net_sales
        step = (
            -self.config.feedback_step
            if ratio > self.config.target_payout_ratio
            else (self.config.feedback_step)
        )
        policy = self.model.policy
        tiers = [
            tier.model_dump() | {"direct_rate": float(np.clip(tier.direct_rate + step, 0.0, 1.0))}
            for tier in policy.tiers
        ]
        self.model.set_policy(with_overrides(policy, {"tiers": tiers}))

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

    def audit(self, orders: Orders) -> np.ndarray:
        """Brushed orders the audit caught are voided the next day (refund and clawback);
        their sellers may be banned. Returns the banned members."""
        caught = orders.brushed & (orders.refund_day >= 0)
        return self.model.members.ban(orders.seller[caught], self.model.day)

    def refund(self) -> Refund:
        """Return today's refunded orders' money and, under clawback, their commissions."""
        refund = self.returns.release(self.model.day)
        np.add.at(self.model.people.refunds, refund.sellers, 1)
        lines = refund.lines if self.scheme.clawback else Payouts.empty()
        self.model.ledger.post_refunds(refund.amount, lines.recipient, lines.cents, lines.kind)
        return refund
