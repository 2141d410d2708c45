"""SocialCommerceModel: one platform, its members and everyone else on a social graph.

The step reads like the day it simulates (docs/model.md, "Process overview and
scheduling"); each line is a vectorised behaviour of a population or an agent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np
import pandas as pd

from simulation.agents.catalogue import Catalogue
from simulation.agents.competitors import Competitor
from simulation.agents.consumers import Consumers, Shares
from simulation.agents.events import beta_with_mean
from simulation.agents.members import Members
from simulation.agents.platform import Platform
from simulation.commission.orders import Orders
from simulation.metrics.daily import COLUMNS, DayEvents, day_metrics
from simulation.metrics.summary import run_summary
from simulation.metrics.totals import RunTotals
from simulation.scenario.loading import intervention_changes, with_overrides
from simulation.scenario.schema import PurchaseConfig, Scenario
from simulation.world.generators import build_graph
from simulation.world.graph import ContactGraph
from simulation.world.ledger import Ledger
from simulation.world.people import People
from simulation.world.streams import Streams
from simulation.world.trust import TieTrust


class SocialCommerceModel(mesa.Model):
    """A membership-based social e-commerce platform, simulated one day per step."""

    def __init__(self, scenario: Scenario, rng: int | np.random.Generator | None = None) -> None:
        """`rng` is the run's seed (default: the scenario's `run.seed`); a Generator
        given instead supplies one."""
        if isinstance(rng, np.random.Generator):
            rng = int(rng.integers(2**63))
        self.seed = scenario.run.seed if rng is None else int(rng)
        super().__init__(rng=self.seed)
        self.config = scenario
        self.streams = Streams(self.seed, scenario)
        self.day = 0
        n = scenario.population.size
        world = self.streams.world
        self.graph = build_graph(scenario.graph, n, world)
        catalogue = Catalogue.from_scenario(scenario)
        self.people = People(n, catalogue.size)
        self.people.need[:] = shared_tastes(self.graph, scenario.purchase, catalogue.size, world)
        self.people.join_cost[:] = world.exponential(scenario.recruitment.effort_cost, size=n)
        self.people.effort[:] = beta_with_mean(scenario.sharing.effort_mean, n, world)
        founders = world.choice(n, size=scenario.population.initial_members, replace=False)
        self.people.hype[:] = world.exponential(scenario.sharing.hype_mean, size=n)
        self.people.platform_trust[:] = scenario.trust.baseline
        self.people.circle_trust[:] = scenario.trust.baseline
        self.trust = TieTrust(self.graph, scenario.trust)
        self.ledger = Ledger(self.people.income, self.people.fees_paid)
        self.totals = RunTotals()
        self.clock = PhaseClock()
        self.members = Members(self.people, self.graph, self.trust, scenario, self.streams)
        self.consumers = Consumers(self.people, self.trust, scenario, self.streams)
        self.platform = Platform(self, scenario)
        self.competitors = [
            Competitor(self, config, index) for index, config in enumerate(scenario.competitors)
        ]
        self.policy = scenario
        self.members.join(np.sort(founders), np.full(founders.size, -1, dtype=np.int64), 0)
        self.orders_today: list[Orders] = []
        self.newcomers_today: list[np.ndarray] = []
        self.today: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in COLUMNS}
        )

    def step(self) -> None:
        """One day, in the order of docs/model.md."""
        self.day += 1
        day = self.day
        self.streams.start_day(day)
        self.intervene(day)
        self.ledger.open_day(day)
        self.orders_today, self.newcomers_today = [], []
        clock = self.clock.start()
        self.platform.step()
        for competitor in self.competitors:
            competitor.step()
        switched = np.concatenate([np.empty(0, np.int64), *(c.switched for c in self.competitors)])
        clock.lap("platform")
        shares: Shares = self.members.share(day)
        met_trust = self.consumers.receive(shares, day)
        self.members.sense_circle(shares, met_trust)
        clock.lap("sharing")
        share_orders = self.consumers.respond(shares, met_trust, day)
        pull = sum(competitor.pull() for competitor in self.competitors)
        repeat_orders = self.consumers.repurchase(day, pull)
        own_orders = self.consumers.self_purchase(self.people.members, day)
        fake_orders = self.members.brush(day, self.consumers.catalogue)
        self.orders_today += [share_orders, repeat_orders, own_orders, fake_orders]
        clock.lap("purchases")
        self.platform.enrol(*self.members.recruit(day))
        clock.lap("recruitment")
        orders = Orders.concat(self.orders_today)
        newcomers = np.concatenate(self.newcomers_today)
        self.platform.settle(orders, newcomers)
        banned = self.platform.audit(orders)
        refund = self.platform.refund()
        self._credit_sellers(orders, day)
        self.members.review(day)
        clock.lap("settlement")
        leavers = np.concatenate([switched, banned, self.members.churn(day)])
        clock.lap("churn")
        book = self.ledger.close_day()
        self.totals.add(book, orders, refund, shares.size, banned.size, switched.size)
        events = DayEvents(
            shares,
            met_trust,
            share_orders,
            orders,
            newcomers,
            leavers,
            refund,
            book,
            banned,
            switched,
        )
        self.today = day_metrics(self, events)
        self.datacollector.collect(self)
        clock.lap("metrics")

    def intervene(self, day: int) -> None:
        """Apply the scenario's interventions of `day`, in the order listed."""
        for intervention in self.config.interventions:
            if intervention.day == day:
                changes = intervention_changes(intervention.set)
                self.set_policy(with_overrides(self.policy, changes, "interventions"))

    def set_policy(self, policy: Scenario) -> None:
        """Switch every behaviour to a new policy (same world, same people)."""
        self.policy = policy
        self.members.configure(policy)
        self.consumers.configure(policy)
        self.platform.configure(policy)

    def run(self, steps: int | None = None, progress: Callable[[int], Any] | None = None) -> None:
        """Simulate `steps` days (default: the scenario's run.steps); `progress(day)` after each."""
        for _ in range(self.config.run.steps if steps is None else steps):
            self.step()
            if progress is not None:
                progress(self.day)

    def snapshot(self, everyone: bool = False) -> pd.DataFrame:
        """Per-person state now, one row per member and former member (everyone if
        asked): taken only on request, so daily collection stays one row per day."""
        people = self.people
        ids = np.arange(people.n) if everyone else people.ever_members
        return pd.DataFrame(
            {
                "person": ids,
                "role": people.role[ids],
                "sponsor": people.sponsor[ids],
                "tier": people.tier[ids],
                "joined_day": people.joined_day[ids],
                "left_day": people.left_day[ids],
                "income": people.income[ids] / 100,
                "net_income": people.net_income(ids) / 100,
                "sales": people.sales[ids] / 100,
                "recruitment_depth": people.depth[ids],
                "platform_trust": people.platform_trust[ids],
                "multi_homing": people.multi_homing[ids],
            }
        )

    def summary(self) -> dict[str, Any]:
        """Final growth, economic and compliance figures of the run so far."""
        return run_summary(self)

    def _credit_sellers(self, orders: Orders, day: int) -> None:
        """Record members' personal sales (not self-purchases)."""
        sold = (orders.seller >= 0) & ~orders.self_purchase
        sellers = orders.seller[sold]
        np.add.at(self.people.sales, sellers, orders.amount[sold])
        self.people.last_active_day[sellers] = day


class PhaseClock:
    """Wall seconds spent in each phase of the step, summed over the run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = 0.0

    def start(self) -> PhaseClock:
        self._last = time.perf_counter()
        return self

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._last
        self._last = now


def shared_tastes(
    graph: ContactGraph, purchase: PurchaseConfig, products: int, rng: np.random.Generator
) -> np.ndarray:
    """Needs per person and product: own draws (Beta with mean need_mean), blended with
    the contacts' mean by taste_homophily, so circles share tastes."""
    own = np.column_stack(
        [beta_with_mean(purchase.need_mean, graph.n, rng) for _ in range(products)]
    )
    if purchase.taste_homophily == 0:
        return own
    blend = purchase.taste_homophily
    return (1 - blend) * own + blend * graph.mean_over_contacts(own)


def _reporter(name: str) -> Callable[[SocialCommerceModel], float]:
    return lambda model: model.today[name]
