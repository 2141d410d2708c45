"""The market's actors: the platform and its competitors, Mesa agents, each take their
turn through Mesa's AgentSet, in the order they were created (platform first)."""

from __future__ import annotations

from simulation.mechanisms.base import Day, Host, Mechanism
from simulation.mechanisms.competition import Competition
from simulation.mechanisms.platform import Platform
from simulation.scenario.schema import Scenario


class MarketActors(Mechanism):
    """Steps the platform and competitor agents; passes each new policy on to them."""

    name = "platform and competitors"

    def __init__(self, host: Host) -> None:
        self.platform, self.competition = Platform(host), Competition(host)
        self.parts = (self.platform, self.competition)
        actors = {self.platform, *self.competition.competitors}
        self.agents = host.agents.select(lambda agent: agent in actors)
        super().__init__(host)

    def bind(self, host: Host) -> None:
        for part in self.parts:
            part.bind(host)

    def configure(self, policy: Scenario) -> None:
        super().configure(policy)
        self.platform.configure(policy)
        self.competition.configure(policy)

    def step(self, day: Day) -> None:
        self.agents.do("step", day)
