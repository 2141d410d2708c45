"""The world a run starts from: the graph, the people and their traits, trust on the
ties, the catalogue, the ledger and the run's random streams.

Everything here is drawn once, from the world stream, in a fixed order, before any
mechanism acts; the scenario keys marked `world` in the schema shape it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.scenario.schema import PurchaseConfig, Scenario
from simulation.world.arrays import beta_with_mean
from simulation.world.catalogue import Catalogue
from simulation.world.footprint import check_fits
from simulation.world.generators import build_graph
from simulation.world.graph import ContactGraph
from simulation.world.ledger import Ledger
from simulation.world.people import People
from simulation.world.streams import Streams
from simulation.world.trust import TieTrust


@dataclass
class World:
    """What every mechanism acts on; built by `build_world`."""

    streams: Streams
    graph: ContactGraph
    people: People
    trust: TieTrust
    ledger: Ledger
    founders: np.ndarray


def build_world(scenario: Scenario, seed: int) -> World:
    """Draw the graph, the people's tastes, joining costs, efforts, the founders and
    hype, in that order, from the world stream of `seed`; refused first if it cannot
    fit in the memory available."""
    check_fits(scenario)
    streams = Streams(seed, scenario)
    n = scenario.population.size
    draws = streams.world
    graph = build_graph(scenario.graph, n, draws)
    catalogue = Catalogue.from_scenario(scenario)
    people = People(n, catalogue.size)
    people.need[:] = shared_tastes(graph, scenario.purchase, catalogue.size, draws)
    people.join_cost[:] = draws.exponential(scenario.recruitment.effort_cost, size=n)
    people.effort[:] = beta_with_mean(scenario.sharing.effort_mean, n, draws)
    founders = draws.choice(n, size=scenario.population.initial_members, replace=False)
    people.hype[:] = draws.exponential(scenario.sharing.hype_mean, size=n)
    ledger = Ledger(people)
    return World(
        streams=streams,
        graph=graph,
        people=people,
        trust=TieTrust(graph, scenario.trust),
        ledger=ledger,
        founders=np.sort(founders),
    )


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
