"""Competition and multi-homing: rival platforms, Mesa agents, poach our members and
tempt our repeat buyers (§7.13).

An approached member compares what the competitor would pay on its own sales with
what it earns here: it switches when the difference over the horizon beats the
switching cost, and otherwise, if the competitor pays more, multi-homes — it stays,
but splits its sharing effort between the two.
"""

from __future__ import annotations

import mesa
import numpy as np

from simulation.mechanisms.base import Day, Host, Mechanism
from simulation.mechanisms.recruitment import Recruitment, per_day_seen
from simulation.scenario.schema import CompetitorConfig, Scenario
from simulation.world.people import State
from simulation.world.streams import Slot, slot

POACH_SLOT = 10


def poach_slot(index: int) -> Slot:
    """Competitor `index`'s draw of whom it approaches (even slots from POACH_SLOT)."""
    return slot("platform", POACH_SLOT + 2 * index, f"whom competitor {index} approaches")


class Competition(Mechanism):
    """Owns who multi-homes and the share of effort a multi-homer keeps for us; its
    competitors act as Mesa agents."""

    name = "competition"
    section = "churn"
    states = (
        State("multi_homing", bool, False, "also sells for a competitor"),
        State("effort_split", np.float32, 1.0, "share of sharing effort spent on this platform"),
    )

    def __init__(self, host: Host) -> None:
        self.competitors = [
            Competitor(host, self, config, index)
            for index, config in enumerate(host.policy.competitors)
        ]
        super().__init__(host)

    def configure(self, policy: Scenario) -> None:
        """Each competitor takes up its (possibly changed) offer; how many there are is
        fixed at the start (interventions that change it are refused at load)."""
        super().configure(policy)
        for competitor, config in zip(self.competitors, policy.competitors, strict=True):
            competitor.config = config

    def bind(self, host: Host) -> None:
        self.recruitment: Recruitment = host.mechanism("recruitment")


class Competitor(mesa.Agent):
    """A rival platform with its own commission offer, prices and quality."""

    def __init__(
        self,
        model: Host,
        competition: Competition,
        config: CompetitorConfig,
        index: int,
    ) -> None:
        super().__init__(model)
        self.competition = competition
        self.config = config
        self.slot = poach_slot(index)

    def pull(self, policy: Scenario) -> float:
        """How strongly it draws a repeat buyer: quality × price advantage^ε × reach."""
        cfg = self.config
        return cfg.quality * (1.0 + cfg.discount) ** policy.purchase.price_elasticity * cfg.reach

    def step(self, day: Day) -> None:
        """From its launch day: approach members with an offer; some switch, some
        multi-home. Adds its pull on repeat buyers to the day's."""
        if day.number < self.config.launch_day:
            return
        policy = day.policy
        day.competitor_pull += self.pull(policy)
        competition = self.competition
        people = competition.people
        members = people.members[~people.multi_homing[people.members]]
        draws = competition.world.streams.draw(self.slot, members)
        approached = members[draws < self.config.poach_prob]
        recruitment = competition.recruitment
        ours = recruitment.daily_income(approached, day.number)
        real = people.sales[approached] - people.faked_sales[approached]
        joined = people.joined_day[approached]
        own_sales = per_day_seen(real, joined, day.number, recruitment.review_days)
        advantage = (1.0 + self.config.discount) ** policy.purchase.price_elasticity
        theirs = self.config.direct_rate * own_sales * advantage
        gain = (theirs - ours) * policy.recruitment.horizon_days
        switch = gain > policy.churn.switching_cost
        split = ~switch & (theirs > ours)
        switched = approached[switch]
        people.leave(switched, day.number)
        day.leavers.setdefault("switched", switched[:0])
        day.leavers["switched"] = np.concatenate([day.leavers["switched"], switched])
        movers = approached[split]
        keep = (ours[split] / (ours[split] + theirs[split])).astype(np.float32)
        people.effort_split[movers] *= keep
        people.multi_homing[movers] = True
