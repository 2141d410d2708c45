"""Shared fixtures: small scenarios and hand-built graphs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulation.model import SocialCommerceModel
from simulation.scenario.schema import Scenario
from simulation.world.graph import SocialGraph
from simulation.world.trust import TieTrust

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SHARED_DATA = ROOT.parent / "shared" / "data"


def scenario(**sections: dict) -> Scenario:
    """A scenario from the defaults, with some sections' keys changed."""
    return Scenario.model_validate(sections)


def graph_from_pairs(n: int, pairs: list[tuple[int, int]]) -> SocialGraph:
    u, v = np.array(pairs).T
    return SocialGraph.from_edges(n, u, v)


@pytest.fixture
def small_scenario() -> Scenario:
    return scenario(
        run={"steps": 60, "seed": 3},
        population={"size": 2000, "initial_members": 10},
        graph={"kind": "watts_strogatz", "mean_degree": 10},
    )


def hand_model(pairs, n: int, **sections: dict) -> SocialCommerceModel:
    """A model of `n` people on the graph of `pairs` (no founders, everyone needing the
    product fully), for driving one mechanism at a time: `model.mechanism(name)`."""
    population = {"size": n, "initial_members": 0}
    config = scenario(population=population, **({"graph": {"kind": "complete"}} | sections))
    model = SocialCommerceModel(config, rng=0)
    graph = graph_from_pairs(n, pairs) if len(pairs) else SocialGraph.from_edges(n, *EMPTY)
    model.world.graph = graph
    model.world.trust = TieTrust(graph, config.trust)
    model.world.people.need[:] = 1.0
    return model


EMPTY = (np.empty(0, np.int64), np.empty(0, np.int64))
