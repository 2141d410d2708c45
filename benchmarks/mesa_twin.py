"""An object-per-agent Mesa twin of ShareLab's core loop, and the benchmark that races them.

The twin is written as a Mesa user would write it: one `Person` agent per node of a
NetworkGrid, with methods for each rule (share, receive, buy, invite, quit), and a
model whose step calls them in ShareLab's order: share → trust → buy → join →
commissions two levels up → churn. `benchmarks/twin.toml` is the matching ShareLab
scenario; tests/test_docking.py checks that both tell the same story (Axtell et al.
1996). Usage: python benchmarks/mesa_twin.py [--twin-size 10000] [--days 60]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import mesa
import networkx as nx
import numpy as np
from mesa.space import NetworkGrid

TWIN_SCENARIO = Path(__file__).resolve().parent / "twin.toml"


class Person(mesa.Agent):
    """Someone on the social graph: a consumer who may become a member."""

    def __init__(self, model: TwinModel) -> None:
        super().__init__(model)
        p = model.params
        rng = model.rng
        self.member = False
        self.former = False
        self.sponsor: Person | None = None
        self.joined_day = 0
        self.income = 0.0
        m = p["effort_mean"]
        self.effort = rng.beta(4 * m, 4 * (1 - m))
        n = p["need_mean"]
        self.need = rng.beta(4 * n, 4 * (1 - n))
        self.join_cost = rng.exponential(p["effort_cost"])
        self.fatigue = 0.0
        self.fatigue_day = 0
        self.next_due = -(10**6)
        self.trust_in: dict[int, tuple[float, int]] = {}
        self.offers: list[Person] = []
        self.invited_by: list[Person] = []

    def trust(self, other: Person) -> float:
        """My trust in `other`, recovered toward the baseline since last touched."""
        p = self.model.params
        value, day = self.trust_in.get(other.unique_id, (p["baseline"], self.model.day))
        return p["baseline"] + (value - p["baseline"]) * math.exp(
            -p["recovery_rate"] * (self.model.day - day)
        )

    def set_trust(self, other: Person, value: float) -> None:
        self.trust_in[other.unique_id] = (min(max(value, 0.0), 1.0), self.model.day)

    def contacts(self) -> list[Person]:
        return self.model.grid.get_neighbors(self.pos)

    def share(self) -> None:
        """Members send Poisson(λ·effort) shares to random contacts."""
        if not self.member:
            return
        contacts = self.contacts()
        for _ in range(self.model.rng.poisson(self.model.params["shares_per_day"] * self.effort)):
            contact = contacts[self.model.rng.integers(len(contacts))]
            contact.receive(self)
            self.model.exposures += 1

    def receive(self, sharer: Person) -> None:
        """A share raises my fatigue; past my tolerance it erodes my trust in the sharer."""
        p = self.model.params
        day = self.model.day
        self.fatigue *= math.exp(-p["fatigue_decay"] * (day - self.fatigue_day))
        self.fatigue_day = day
        self.fatigue += 1
        if self.fatigue > p["fatigue_tolerance"]:
            self.set_trust(sharer, self.trust(sharer) * (1 - p["erosion"]))
        self.offers.append(sharer)

    def buy(self) -> None:
        """If I need the product, I may buy from one of today's sharers."""
        p = self.model.params
        offers, self.offers = self.offers, []
        if not offers or self.next_due > self.model.day:
            return
        chances = [
            min(
                1.0,
                p["conversion"]
                * self.trust(sharer)
                * self.need
                * p["price_factor"]
                * math.exp(-p["fatigue_sensitivity"] * self.fatigue),
            )
            for sharer in offers
        ]
        if self.model.rng.random() >= 1 - math.prod(1 - c for c in chances):
            return
        sharer = offers[self.model.rng.choice(len(offers), p=np.array(chances) / sum(chances))]
        self.next_due = self.model.day + p["repurchase_days"]
        if self.model.rng.random() < p["bad_experience_prob"]:
            self.set_trust(sharer, self.trust(sharer) * (1 - p["bad_purchase_loss"]))
        else:
            trust = self.trust(sharer)
            self.set_trust(sharer, trust + p["good_purchase_gain"] * (1 - trust))
        self.model.pay_commissions(sharer, p["price"])

    def invite(self) -> None:
        """Members who joined before today invite each contact with invite_prob."""
        if not self.member or self.joined_day >= self.model.day:
            return
        for contact in self.contacts():
            if self.model.rng.random() < self.model.params["invite_prob"]:
                contact.invited_by.append(self)

    def consider(self) -> None:
        """I join under one of the inviters whose visible income makes it worth it."""
        inviters, self.invited_by = self.invited_by, []
        if self.member or self.former or not inviters:
            return
        p, day = self.model.params, self.model.day
        willing = [
            inviter
            for inviter in inviters
            if p["horizon_days"]
            * self.trust(inviter)
            * max(inviter.income / max(day - inviter.joined_day, 1), 0.0)
            >= self.join_cost
        ]
        if willing:
            self.join(willing[self.model.rng.integers(len(willing))])

    def join(self, sponsor: Person | None) -> None:
        self.member, self.sponsor, self.joined_day = True, sponsor, self.model.day
        self.model.new_today += 1

    def quit(self) -> None:
        """Members whose net income per day stays below reservation leave, now and then."""
        p = self.model.params
        if not self.member:
            return
        tenure = self.model.day - self.joined_day
        poor = tenure >= p["grace_days"] and self.income / max(tenure, 1) < p["reservation"]
        if poor and self.model.rng.random() < p["quit_prob"]:
            self.member, self.former = False, True


class TwinModel(mesa.Model):
    """The same platform, one Python object per person."""

    def __init__(
        self, params: dict, n: int, mean_degree: int, rewire: float, founders: int, seed: int
    ) -> None:
        super().__init__(rng=seed)
        self.params = params
        self.day = 0
        self.exposures = 0
        self.gmv = 0.0
        self.new_today = 0
        graph = nx.watts_strogatz_graph(n, mean_degree, rewire, seed=int(self.rng.integers(2**31)))
        self.grid = NetworkGrid(graph)
        for node in graph.nodes:
            self.grid.place_agent(Person(self), node)
        for person in self.rng.choice(list(self.agents), size=founders, replace=False):
            person.join(None)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "members": lambda m: sum(1 for a in m.agents if a.member),
                "gmv": "gmv",
                "exposures": "exposures",
            }
        )

    def pay_commissions(self, seller: Person, amount: float) -> None:
        """The seller's direct rate, then overrides to the next two active uplines."""
        self.gmv += amount
        seller.income += self.params["direct_rate"] * amount
        upline = seller.sponsor
        for rate in self.params["override_rates"]:
            while upline is not None and not upline.member:
                upline = upline.sponsor
            if upline is None:
                break
            upline.income += rate * amount
            upline = upline.sponsor

    def step(self) -> None:
        self.day += 1
        self.agents.shuffle_do("share")
        self.agents.shuffle_do("buy")
        self.agents.shuffle_do("invite")
        self.agents.shuffle_do("consider")
        self.agents.do("quit")
        self.datacollector.collect(self)


def twin_parameters(scenario) -> dict:
    """The twin's parameters, read from the matching ShareLab scenario."""
    purchase, tier = scenario.purchase, scenario.tiers[0]
    return {
        "shares_per_day": scenario.sharing.shares_per_day,
        "effort_mean": scenario.sharing.effort_mean,
        "need_mean": purchase.need_mean,
        "effort_cost": scenario.recruitment.effort_cost,
        "baseline": scenario.trust.baseline,
        "recovery_rate": scenario.trust.recovery_rate,
        "fatigue_tolerance": scenario.trust.fatigue_tolerance,
        "fatigue_decay": scenario.trust.fatigue_decay,
        "erosion": scenario.trust.erosion,
        "good_purchase_gain": scenario.trust.good_purchase_gain,
        "bad_purchase_loss": scenario.trust.bad_purchase_loss,
        "conversion": purchase.conversion,
        "price": purchase.price,
        "price_factor": (purchase.market_price / purchase.price) ** purchase.price_elasticity,
        "fatigue_sensitivity": purchase.fatigue_sensitivity,
        "bad_experience_prob": purchase.bad_experience_prob,
        "repurchase_days": purchase.repurchase_days,
        "invite_prob": scenario.recruitment.invite_prob,
        "horizon_days": scenario.recruitment.horizon_days,
        "direct_rate": tier.direct_rate,
        "override_rates": list(scenario.commission.override_rates),
        "reservation": scenario.churn.reservation_income,
        "grace_days": scenario.churn.grace_days,
        "quit_prob": scenario.churn.quit_prob,
    }


def twin_for(scenario, seed: int) -> TwinModel:
    return TwinModel(
        twin_parameters(scenario),
        scenario.population.size,
        int(scenario.graph.mean_degree),
        scenario.graph.rewire_prob,
        scenario.population.initial_members,
        seed,
    )


def main() -> None:
    from simulation import SocialCommerceModel, load_scenario

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twin-size", type=int, default=10_000)
    parser.add_argument("--large-size", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    rates = {}
    for name, size in (
        ("mesa twin", args.twin_size),
        ("sharelab", args.twin_size),
        ("sharelab", args.large_size),
    ):
        scenario = load_scenario(
            TWIN_SCENARIO,
            {
                "population.size": size,
                "run.steps": args.days,
                "population.initial_members": size // 20,
            },
        )
        model = twin_for(scenario, 1) if name == "mesa twin" else SocialCommerceModel(scenario)
        start = time.perf_counter()
        for _ in range(args.days):
            model.step()
        elapsed = time.perf_counter() - start
        if name == "mesa twin":
            exposures = model.exposures
        else:
            exposures = model.mechanism("compliance").totals.exposures
        rates[(name, size)] = exposures / elapsed
        print(
            f"{name:>10} {size:>10,} people  {exposures:>11,} exposures  {elapsed:>8.2f} s  "
            f"{exposures / elapsed:>12,.0f} exposures/s",
            flush=True,
        )
    twin = rates[("mesa twin", args.twin_size)]
    print(
        f"\nShareLab at {args.twin_size:,}: {rates[('sharelab', args.twin_size)] / twin:.0f}× "
        f"the twin's rate; at {args.large_size:,}: "
        f"{rates[('sharelab', args.large_size)] / twin:.0f}×"
    )


if __name__ == "__main__":
    main()
