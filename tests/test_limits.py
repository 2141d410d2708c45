"""Classical limits: with frictions off, the engine reproduces Bass and the independent cascade."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from simulation import SocialCommerceModel, load_scenario
from tests.conftest import SCENARIOS


def bass_map(f0: float, p: float, r: float, n: int, days: int) -> np.ndarray:
    """F(t+1) = F + (1 − F)(1 − (1 − p)(1 − r)^(N·F)), for t = 0..days-1."""
    path = [f0]
    for _ in range(days):
        f = path[-1]
        path.append(f + (1 - f) * (1 - (1 - p) * (1 - r) ** (n * f)))
    return np.array(path[1:])


def penetration(scenario, seed: int) -> np.ndarray:
    model = SocialCommerceModel(scenario, rng=seed)
    model.run()
    return model.datacollector.get_model_vars_dataframe()["penetration"].to_numpy()


def test_bass_limit_on_the_complete_graph():
    scenario = load_scenario(SCENARIOS / "validation" / "bass.toml")
    n = scenario.population.size
    assert n == 20_000
    expected = bass_map(
        scenario.population.initial_members / n,
        scenario.platform.organic_join_prob,
        scenario.recruitment.invite_prob,
        n,
        scenario.run.steps,
    )
    simulated = np.mean([penetration(scenario, seed) for seed in range(3)], axis=0)
    assert expected[-1] > 0.9, "the scenario should run through the whole S-curve"
    assert np.max(np.abs(simulated - expected)) < 0.01


def test_bass_limit_breaks_when_frictions_are_on():
    scenario = load_scenario(
        SCENARIOS / "validation" / "bass.toml", {"recruitment.effort_cost": 100.0}
    )
    n = scenario.population.size
    expected = bass_map(20 / n, 0.001, scenario.recruitment.invite_prob, n, scenario.run.steps)
    assert np.max(np.abs(penetration(scenario, 0) - expected)) > 0.1


def test_independent_cascade_reaches_the_percolation_size():
    scenario = load_scenario(SCENARIOS / "validation" / "cascade.toml")
    n = scenario.population.size
    mean_degree = scenario.graph.mean_degree
    p = scenario.recruitment.invite_prob
    seeded = scenario.population.initial_members / n
    size = brentq(lambda s: 1 - s - (1 - seeded) * np.exp(-mean_degree * p * s), 0.05, 1.0)
    finals = [penetration(scenario, seed)[-1] for seed in range(3)]
    assert np.mean(finals) == pytest.approx(size, abs=0.01)


def test_cascade_below_threshold_stays_small():
    scenario = load_scenario(
        SCENARIOS / "validation" / "cascade.toml", {"recruitment.invite_prob": 0.05}
    )
    assert penetration(scenario, 1)[-1] < 0.02
