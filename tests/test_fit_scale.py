"""Fitting population.scale in closed form: the scale that minimises the loss given
the runs, and the refusals around it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulation import load_scenario
from simulation.experiments.calibration import Calibration
from simulation.experiments.targets import Target, best_scale, log_loss
from simulation.scenario import ScenarioError

LEVELS = [
    Target("cumulative_members", 100, 100.0, weight=1.0),
    Target("placed_gmv", 100, 400.0, weight=3.0, period=50),
    Target("placed_orders/annual_buyers", 100, 2.0),
    Target("cumulative_members", 120, 1e6, fit=False),
]


def test_the_scale_is_the_weighted_geometric_mean_of_reported_over_simulated():
    unscaled = np.array([[8.0, 12.0], [20.0, 20.0], [1.5, 2.5], [50.0, 50.0]])
    expected = math.exp((math.log(100 / 10) + 3 * math.log(400 / 20)) / 4)
    assert best_scale(LEVELS, unscaled) == pytest.approx(expected, rel=1e-12)


def test_the_fitted_scale_minimises_the_loss():
    unscaled = np.array([[8.0, 12.0], [20.0, 20.0], [1.5, 2.5], [50.0, 50.0]])
    k = best_scale(LEVELS, unscaled)
    factor = np.array([[1.0], [1.0], [0.0], [1.0]])

    def loss(scale: float) -> float:
        values = unscaled * np.where(factor == 1.0, scale, 1.0)
        return log_loss(LEVELS, values)

    assert loss(k) < loss(k * 1.05) and loss(k) < loss(k / 1.05)


def test_without_a_level_there_is_no_scale_to_fit():
    ratios = [Target("placed_orders/annual_buyers", 100, 2.0)]
    assert math.isnan(best_scale(ratios, np.array([[1.0]])))
    assert Target("growth:cumulative_members", 100, 2.0, period=50).power == 0
    assert Target("penetration", 100, 0.1).power == 0
    assert Target("placed_orders/annual_buyers", 100, 2.0).power == 0
    assert Target("placed_orders", 100, 2.0, period=50).power == 1
    assert Target("placed_orders/penetration", 100, 2.0).power == 1
    assert Target("penetration/annual_buyers", 100, 2.0).power == -1


def test_a_ratio_that_goes_as_the_scale_counts_in_its_fit():
    targets = [
        Target("cumulative_members", 100, 100.0),
        Target("placed_orders/penetration", 100, 1000.0),
        Target("penetration/annual_buyers", 100, 0.001),
    ]
    unscaled = np.array([[10.0], [10.0], [0.1]])
    k = best_scale(targets, unscaled)
    assert k == pytest.approx(math.exp((math.log(10) + math.log(100) + math.log(100)) / 3))

    def loss(scale: float) -> float:
        return log_loss(targets, unscaled * np.array([[scale], [scale], [1 / scale]]))

    assert loss(k) < loss(k * 1.05) and loss(k) < loss(k / 1.05)


@pytest.fixture
def tiny():
    return load_scenario(
        "scenarios/baseline.toml",
        {"population.size": 300, "population.initial_members": 5, "run.steps": 20},
    )


def test_fit_scale_is_refused_with_the_scale_searched_or_without_a_level(tiny, tmp_path):
    with pytest.raises(ScenarioError, match="one or the other"):
        Calibration(
            tiny,
            [Target("cumulative_members", 20, 9.0)],
            ["population.scale=1:10"],
            fit_scale=True,
            out=tmp_path,
        )
    with pytest.raises(ScenarioError, match="needs a fitted target"):
        Calibration(
            tiny,
            [Target("placed_orders/annual_buyers", 20, 2.0)],
            ["purchase.price=50:150"],
            fit_scale=True,
            out=tmp_path,
        )


def test_a_calibration_with_fit_scale_reports_the_scale_it_found(tiny, tmp_path):
    targets = [Target("cumulative_members", 20, 5000.0)]
    result = Calibration(
        tiny,
        targets,
        ["purchase.price=90:110"],
        trials=2,
        replicates=1,
        fit_scale=True,
        out=tmp_path,
        progress=False,
    ).run()
    scale = result.params["population.scale"]
    assert result.scenario.population.scale == scale
    assert result.targets.loc[0, "model_mean"] == pytest.approx(5000.0, rel=1e-9)
    assert result.loss == pytest.approx(0.0, abs=1e-18)
