"""The market's actors: the platform and its competitors, Mesa agents, each take their
turn through Mesa's AgentSet, in the order they were created (platform first)."""

from __future__ import annotations

import mesa

from simulation.mechanisms.base import Day, Mechanism
from simulation.mechanisms.competition import Competition
from simulation.mechanisms.platform import Platform
from simulation.scenario.schema import Scenario
from simulation.world.world import World


class MarketActors(Mechanism):
    """Steps the platform and competitor agents; passes each new policy on to them."""

    name = "platform and competitors"

    def __init__(
        self,
        world: World,
        policy: Scenario,
        agents: mesa.agent.AgentSet,
        platform: Platform,
        competition: Competition,
    ) -> None:
        self.agents, self.platform, self.competition = agents, platform, competition
        self.parts = (platform, competition)
        super().__init__(world, policy)

    def configure(self, policy: Scenario) -> None:
        super().configure(policy)
        self.platform.configure(policy)
        self.competition.configure(policy)

    def step(self, day: Day) -> None:
        self.agents.do("step", day)
