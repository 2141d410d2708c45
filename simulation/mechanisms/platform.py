"""The platform, a Mesa agent: advertising brings organic joiners and direct buyers,
a feedback rule may steer its direct rates toward a payout ratio, and it spends on
training its members (§7.1, §7.11, §7.14)."""

from __future__ import annotations

import mesa
import numba
import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism
from simulation.mechanisms.purchases import Purchases
from simulation.mechanisms.recruitment import Recruitment
from simulation.scenario.loading import with_overrides
from simulation.scenario.schema import Scenario
from simulation.world.arrays import bernoulli_positions
from simulation.world.money import cents
from simulation.world.people import CONSUMER, State
from simulation.world.threads import parallel_kernel


class Platform(Mechanism, mesa.Agent):
    """Each day: advertising reaches consumers (each joins with organic_join_prob if
    joining is worth it to them) and shoppers (organic_buy_prob); under a target payout
    ratio the direct rates move one step every feedback_days; every member gets the
    day's training budget plus its tier's extra, a cost to the platform."""

    name = "platform"
    section = "platform"
    states = (State("trained", np.int64, 0, "training received, cents"),)

    def __init__(self, host: Host) -> None:
        mesa.Agent.__init__(self, host)
        Mechanism.__init__(self, host)

    def bind(self, host: Host) -> None:
        self.recruitment: Recruitment = host.mechanism("recruitment")
        self.purchases: Purchases = host.mechanism("purchases")

    def configure(self, policy: Scenario) -> None:
        super().configure(policy)
        self.training_extra = np.array([cents(t.training) for t in policy.tiers])

    def step(self, day: Day) -> None:
        self.advertise(day)
        if self.config.target_payout_ratio > 0 and day.number > 1:
            self.steer_payouts(day)
            if day.policy is not self.policy:
                self.configure(day.policy)
        self.train(self.people.members)

    def advertise(self, day: Day) -> None:
        """Organic joiners (no sponsor) and direct orders, from the day's platform stream."""
        people, rng = self.people, self.world.streams.platform
        reached = bernoulli_positions(people.n, self.config.organic_join_prob, rng)
        reached = reached[people.role[reached] == CONSUMER]
        recruitment = self.recruitment
        worth_it = recruitment.expected_benefit(reached, 0.0) >= recruitment.joining_cost(reached)
        joiners = reached[worth_it]
        sponsors = np.full(joiners.size, -1, dtype=np.int64)
        recruitment.enrol(joiners, sponsors, day.number)
        day.newcomers["organic"] = joiners
        shoppers = bernoulli_positions(people.n, self.config.organic_buy_prob, rng)
        day.orders["direct"] = self.purchases.buy_direct(shoppers, day.number)

    def train(self, members: np.ndarray) -> None:
        """Spend the day's training budget on every member, plus its tier's extra."""
        budget = cents(self.config.training_budget)
        if members.size == 0 or (budget == 0 and not self.training_extra.any()):
            return
        people = self.people
        spent = _train(members, people.tier, self.training_extra, budget, people.trained)
        if spent:
            self.world.ledger.post_training(spent)

    def steer_payouts(self, day: Day) -> None:
        """Every feedback_days, move every direct rate one step toward the target payout
        ratio, judged on the period just ended: a new policy for the day."""
        period = self.config.feedback_days
        if (day.number - 1) % period:
            return
        books = self.world.ledger.books[-period:]
        net_sales = sum(b.sales - b.refunds for b in books)
        if net_sales <= 0:
            return
        ratio = sum(b.payouts for b in books) / net_sales
        step = self.config.feedback_step
        step = -step if ratio > self.config.target_payout_ratio else step
        tiers = [
            tier.model_dump() | {"direct_rate": float(np.clip(tier.direct_rate + step, 0.0, 1.0))}
            for tier in day.policy.tiers
        ]
        day.policy = with_overrides(day.policy, {"tiers": tiers})


@parallel_kernel
def _train(
    members: np.ndarray, tier: np.ndarray, extra: np.ndarray, budget: int, trained: np.ndarray
) -> int:
    """Add budget + its tier's extra to each of the (distinct) members' training; the
    cents spent in all."""
    spent = 0
    for i in numba.prange(members.size):
        spend = budget + extra[tier[members[i]]]
        trained[members[i]] += spend
        spent += spend
    return spent
