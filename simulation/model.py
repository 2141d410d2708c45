"""SocialCommerceModel: one platform, its members and everyone else on a social graph.

A day is the plan: the mechanisms of docs/model.md §3, in order, each acting on the
day's events left by those before it. `PLAN` lists them; `model.plan` holds this
run's instances, `model.metrics` every figure they report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import mesa
import numpy as np
import pandas as pd

from simulation.mechanisms.audits import Audits
from simulation.mechanisms.base import Day, Mechanism, Metric
from simulation.mechanisms.brushing import Brushing
from simulation.mechanisms.churn import Churn
from simulation.mechanisms.community import Community
from simulation.mechanisms.compliance import Compliance, flags
from simulation.mechanisms.content import Content
from simulation.mechanisms.diffusion import Diffusion
from simulation.mechanisms.exposure import Exposure
from simulation.mechanisms.filings import Filings
from simulation.mechanisms.interventions import Interventions
from simulation.mechanisms.market import MarketActors
from simulation.mechanisms.observation import Observation
from simulation.mechanisms.purchases import Purchases
from simulation.mechanisms.recruitment import Recruitment
from simulation.mechanisms.refunds import Refunds
from simulation.mechanisms.risk_warning import RiskWarning
from simulation.mechanisms.settlement import Settlement, net_income
from simulation.mechanisms.sharing import Sharing
from simulation.mechanisms.tiers import Tiers
from simulation.scenario.loading import scenario_hash
from simulation.scenario.schema import Scenario
from simulation.world.threads import engine_threads, use_threads
from simulation.world.world import build_world

PLAN: tuple[type[Mechanism], ...] = (
    Interventions,
    MarketActors,
    Sharing,
    Exposure,
    Purchases,
    Content,
    Brushing,
    RiskWarning,
    Recruitment,
    Settlement,
    Audits,
    Refunds,
    Tiers,
    Community,
    Churn,
    Observation,
    Filings,
    Compliance,
    Diffusion,
)
RUN_METRICS = (
    Metric("days", "days simulated", "days", "{:,}", "days simulated", "final"),
    Metric("people", "people on the graph", "people", "{:,}", "population size", "final"),
    Metric("ties", "ties", "ties", "{:,}", "undirected ties of the social graph", "final"),
)
METRICS: tuple[Metric, ...] = RUN_METRICS + tuple(m for cls in PLAN for m in cls.metrics)


class SocialCommerceModel(mesa.Model):
    """A membership-based social e-commerce platform, simulated one day per step.

    `extra` mechanisms (Mechanism classes) act right after the entry their `after`
    names (churn by default: after settlement, so the orders and newcomers they add
    are not settled); their metrics join the time series and summary.
    `profile=True` times each entry of the plan (`model.clock`).
    """

    def __init__(
        self,
        scenario: Scenario,
        rng: int | np.random.Generator | None = None,
        extra: Sequence[type[Mechanism]] = (),
        profile: bool = False,
    ) -> None:
        """`rng` is the run's seed (default: the scenario's `run.seed`); a Generator
        given instead supplies one."""
        if isinstance(rng, np.random.Generator):
            rng = int(rng.integers(2**63))
        self.seed = scenario.run.seed if rng is None else int(rng)
        super().__init__(rng=self.seed)
        self.config = scenario
        self.policy = scenario
        self.day = 0
        self.threads = engine_threads(scenario.population.size)
        with use_threads(self.threads):
            self.world = build_world(scenario, self.seed)
        self.plan = self._build_plan(extra)
        self.metrics = RUN_METRICS + tuple(m for entry in self.plan for m in entry.metrics)
        self.columns = tuple(m.name for m in self.metrics if m.kind != "final")
        self.clock = PhaseClock() if profile else None
        self.today: dict[str, Any] = {}
        founders = self.world.founders
        recruitment = self.mechanism("recruitment")
        recruitment.enrol(founders, np.full(founders.size, -1, dtype=np.int64), 0)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in self.columns}
        )

    def _build_plan(self, extra: Sequence[type[Mechanism]]) -> list[Mechanism]:
        """The mechanisms of PLAN, each of `extra` right after the entry its `after`
        names, each built in this model and then bound to the mechanisms it calls."""
        classes: list[type[Mechanism]] = list(PLAN)
        for cls in extra:
            anchors = [i for i, placed in enumerate(classes) if placed.name == cls.after]
            if not anchors:
                raise ValueError(f"{cls.__name__}.after = {cls.after!r}: no such entry")
            at = anchors[0] + 1
            while at < len(classes) and classes[at] in extra:
                at += 1
            classes.insert(at, cls)
        self.plan = [cls(self) for cls in classes]
        names = [entry.name for entry in self.plan]
        if len(set(names)) != len(names):
            raise ValueError(f"two mechanisms share a name in the plan: {names}")
        for entry in self.plan:
            entry.bind(self)
        return self.plan

    def step(self) -> None:
        """One day: the plan, in order; then the day's row is collected."""
        with use_threads(self.threads):
            self.plan_day()

    def plan_day(self) -> None:
        """The day's plan and its row, on this model's threads."""
        self.day += 1
        world = self.world
        world.streams.start_day(self.day)
        world.ledger.open_day(self.day)
        day = Day(self.day, self.policy)
        for entry in self.plan:
            started = time.perf_counter() if self.clock else 0.0
            entry.step(day)
            if day.policy is not self.policy:
                self.set_policy(day.policy)
            if self.clock:
                self.clock.add(entry.name, time.perf_counter() - started)
        started = time.perf_counter() if self.clock else 0.0
        self.today = {}
        for entry in self.plan:
            self.today |= entry.report(day)
        self.datacollector.collect(self)
        if self.clock:
            self.clock.add("reports", time.perf_counter() - started)

    def set_policy(self, policy: Scenario) -> None:
        """Every mechanism takes up a new policy (same world, same people)."""
        self.policy = policy
        for entry in self.plan:
            entry.configure(policy)

    def run(self, steps: int | None = None, progress: Callable[[int], Any] | None = None) -> None:
        """Simulate `steps` days (default: the scenario's run.steps); `progress(day)` after each."""
        for _ in range(self.config.run.steps if steps is None else steps):
            self.step()
            if progress is not None:
                progress(self.day)

    def snapshot(self, everyone: bool = False) -> pd.DataFrame:
        """Per-person state now, one row per member and former member (everyone if
        asked): taken only on request, so daily collection stays one row per day."""
        people = self.world.people
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
                "net_income": net_income(people, ids, "need", self.policy.purchase.gross_margin)
                / 100,
                "sales": people.sales[ids] / 100,
                "recruitment_depth": people.depth[ids],
                "platform_trust": people.platform_trust[ids],
                "multi_homing": people.multi_homing[ids],
            }
        )

    def summary(self) -> dict[str, Any]:
        """Final growth, economic and compliance figures of the run so far, its flags
        and its provenance."""
        summary: dict[str, Any] = {
            "scenario": self.config.name,
            "scenario_hash": scenario_hash(self.config),
            "seed": self.seed,
            "days": self.day,
            "people": self.world.people.n,
            "ties": int(self.world.graph.n_ties // 2),
            "scale": self.config.population.scale,
        }
        for entry in self.plan:
            summary |= entry.final()
        summary["flags"] = flags(summary)
        return summary

    def mechanism(self, name: str) -> Mechanism:
        """The mechanism of the plan (or a part of one) called `name`."""
        for entry in self.plan:
            for part in (entry, *entry.parts):
                if part.name == name:
                    return part
        raise KeyError(f"no mechanism {name!r} in the plan")

    def describe_plan(self) -> pd.DataFrame:
        """The plan as a table: each mechanism, the section it reads, the per-person
        arrays it owns and the metrics it reports."""
        return pd.DataFrame(
            {
                "mechanism": [e.name for e in self.plan],
                "class": [type(e).__name__ for e in self.plan],
                "section": [e.section or "" for e in self.plan],
                "owns": [
                    ", ".join(s.name for part in (e, *e.parts) for s in part.states)
                    for e in self.plan
                ],
                "metrics": [", ".join(m.name for m in e.metrics) for e in self.plan],
            }
        )


class PhaseClock:
    """Wall seconds spent in each entry of the plan, summed over the run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, entry: str, seconds: float) -> None:
        self.seconds[entry] = self.seconds.get(entry, 0.0) + seconds


def _reporter(name: str) -> Callable[[SocialCommerceModel], Any]:
    return lambda model: model.today[name]
