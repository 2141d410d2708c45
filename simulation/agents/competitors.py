"""Competing platforms, Mesa agents: they poach our members and tempt our buyers.

An approached member compares what the competitor would pay on its own sales with
what it earns here: it switches when the difference over the horizon beats the
switching cost, and otherwise, if the competitor pays more, multi-homes — it
stays, but splits its sharing effort between the two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.scenario.schema import CompetitorConfig
from simulation.world.people import FORMER

if TYPE_CHECKING:
    from simulation.model import SocialCommerceModel

POACH_SLOT = 10


class Competitor(mesa.Agent):
    """A rival platform with its own commission offer, prices and quality."""

    def __init__(self, model: SocialCommerceModel, config: CompetitorConfig, index: int) -> None:
        super().__init__(model)
        self.config = config
        self.index = index
        self.switched: np.ndarray = np.empty(0, dtype=np.int64)

    @property
    def active(self) -> bool:
        return self.model.day >= self.config.launch_day

    def pull(self) -> float:
        """How strongly it draws a repeat buyer: quality × price advantage^ε × reach."""
        if not self.active:
            return 0.0
        elasticity = self.model.policy.purchase.price_elasticity
        cfg = self.config
        return cfg.quality * (1.0 + cfg.discount) ** elasticity * cfg.reach

    def step(self) -> None:
        """Approach members with an offer; some switch, some multi-home."""
        self.switched = np.empty(0, dtype=np.int64)
        if not self.active:
            return
        model, people = self.model, self.model.people
        day, policy = model.day, model.policy
        members = people.members[~people.multi_homing[people.members]]
        slot = POACH_SLOT + 2 * self.index
        approached = members[model.streams.draw("platform", slot, members) < self.config.poach_prob]
        tenure = np.maximum(day - people.joined_day[approached], 1)
        ours = model.members.daily_income(approached, day)
        own_sales = people.sales[approached] / 100.0 / tenure
        advantage = (1.0 + self.config.discount) ** policy.purchase.price_elasticity
        theirs = self.config.direct_rate * own_sales * advantage
        gain = (theirs - ours) * policy.recruitment.horizon_days
        switch = gain > policy.churn.switching_cost
        split = ~switch & (theirs > ours)
        self.switched = approached[switch]
        people.set_role(self.switched, FORMER)
        people.left_day[self.switched] = day
        movers = approached[split]
        people.effort[movers] *= (ours[split] / (ours[split] + theirs[split])).astype(np.float32)
        people.multi_homing[movers] = True
