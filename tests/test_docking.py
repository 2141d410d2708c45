"""Docking (Axtell et al. 1996): the vectorised engine and an object-per-agent Mesa twin
of the core loop, on the same graph law and parameters, tell the same story."""

from __future__ import annotations

import numpy as np

from benchmarks.mesa_twin import TWIN_SCENARIO, twin_for
from simulation import SocialCommerceModel, load_scenario
from simulation.experiments.analysis import mean_ci

REPLICATES = 6
CHECKPOINTS = (30, 60, 90, 120)


def trajectories(make) -> tuple[np.ndarray, np.ndarray]:
    """Members and cumulative GMV by day, one row per replicate."""
    members, gmv = [], []
    for replicate in range(REPLICATES):
        model = make(replicate)
        for _ in range(load_scenario(TWIN_SCENARIO).run.steps):
            model.step()
        days = model.datacollector.get_model_vars_dataframe()
        members.append(days["members"].to_numpy())
        cumulative = days["gmv"].cumsum() if "day" in days else days["gmv"]
        gmv.append(np.asarray(cumulative, dtype=float))
    return np.array(members), np.array(gmv)


def overlap(a: np.ndarray, b: np.ndarray) -> bool:
    _, low_a, high_a = mean_ci(a)
    _, low_b, high_b = mean_ci(b)
    return low_a <= high_b and low_b <= high_a


def test_sharelab_and_its_mesa_twin_agree_on_members_and_gmv():
    scenario = load_scenario(TWIN_SCENARIO)
    ours = trajectories(lambda r: SocialCommerceModel(scenario, rng=100 + r))
    twin = trajectories(lambda r: twin_for(scenario, 200 + r))
    for day in CHECKPOINTS:
        for series in (0, 1):
            a, b = ours[series][:, day - 1], twin[series][:, day - 1]
            assert overlap(a, b), (day, series, a.mean(), b.mean())
    assert ours[0][:, 59].mean() > 1.5 * scenario.population.initial_members
