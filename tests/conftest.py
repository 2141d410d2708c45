"""Shared fixtures: small scenarios and hand-built graphs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulation.scenario.schema import Scenario
from simulation.world.graph import SocialGraph

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
