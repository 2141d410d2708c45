"""Diffusion summaries: the Bass fit recovers known coefficients, and retention counts
who is still a member so many days after joining."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import SocialCommerceModel, load_scenario
from simulation.mechanisms.diffusion import (
    bass_cumulative,
    bass_fit,
    retention,
    retention_by_cohort,
)
from simulation.world.people import People
from tests.conftest import SCENARIOS


def test_the_bass_fit_recovers_the_coefficients_of_an_exact_curve():
    curve = bass_cumulative(np.arange(200.0), 0.002, 0.08, 5000.0)
    fit = bass_fit(np.round(curve))
    assert fit["bass_p"] == pytest.approx(0.002, rel=0.02)
    assert fit["bass_q"] == pytest.approx(0.08, rel=0.02)
    assert fit["bass_m"] == pytest.approx(5000.0, rel=0.01)
    assert bass_fit(np.arange(5)) is None  # too few joiners to fit


def test_the_bass_scenario_is_fitted_back_to_its_own_p_and_q():
    model = SocialCommerceModel(load_scenario(SCENARIOS / "validation" / "bass.toml"))
    model.run()
    summary = model.summary()
    assert summary["bass_p"] == pytest.approx(0.001, rel=0.15)  # organic_join_prob
    assert summary["bass_q"] == pytest.approx(0.05, rel=0.1)  # N · invite_prob
    assert summary["bass_m"] == pytest.approx(20_000 - 20, rel=0.02)
    assert summary["retention_180"] == 1.0  # nobody leaves in the Bass limit


def test_retention_counts_joiners_still_members_after_each_horizon():
    people = People(6)
    people.join(np.array([0]), np.array([-1]), 0)  # a founder: not a joiner
    people.join(np.array([1, 2, 3]), np.full(3, -1), 10)
    people.join(np.array([4]), np.array([-1]), 95)  # too late to be seen 30 days on
    people.leave(np.array([2]), 30)  # left 20 days after joining
    people.leave(np.array([3]), 60)  # left 50 days after joining
    assert retention(people, 100, 30) == pytest.approx(2 / 3)
    assert retention(people, 100, 90) == pytest.approx(1 / 3)
    assert retention(people, 100, 180) is None
    cohorts = retention_by_cohort(people, 100)
    assert list(cohorts["joiners"]) == [3, 0, 0, 1]
    assert cohorts.loc[0, "retained_30"] == pytest.approx(2 / 3)
    assert np.isnan(cohorts.loc[3, "retained_30"])
