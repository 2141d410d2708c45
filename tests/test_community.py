"""Community and belonging (§7.17): belonging follows its closed form, the spend is
booked and comes off the platform's margin to the cent, belonging relieves churn and
lifts effort, a zero budget changes nothing, and bad keys are refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from simulation import SocialCommerceModel
from simulation.mechanisms.base import Day
from simulation.mechanisms.community import daily_gain
from simulation.scenario.loading import with_overrides
from tests.conftest import hand_model, scenario

COMMUNITY_COLUMNS = ["mean_belonging", "community_spend", "platform_margin"]


def members_of(model: SocialCommerceModel, n: int) -> np.ndarray:
    """Make people 0..n-1 members with no sponsor, on day 0."""
    ids = np.arange(n, dtype=np.int64)
    model.world.people.join(ids, np.full(n, -1, dtype=np.int64), 0)
    return ids


def days_of(config) -> pd.DataFrame:
    model = SocialCommerceModel(config)
    model.run()
    return model.datacollector.get_model_vars_dataframe()


def churning(**community) -> object:
    """A small world where unhappy members quit often: income never reaches the
    reservation value after a short grace period."""
    return scenario(
        run={"steps": 60, "seed": 5},
        population={"size": 2000, "initial_members": 40},
        platform={"organic_join_prob": 0.002},
        churn={"reservation_income": 50.0, "grace_days": 5, "quit_prob": 0.05, "inactive_days": 0},
        community=community,
    )


def test_the_daily_gain_has_diminishing_returns():
    assert daily_gain(0.0, 0.1, 20.0) == 0.0
    assert daily_gain(20.0, 0.1, 20.0) == pytest.approx(0.05)
    assert daily_gain(60.0, 0.1, 20.0) == pytest.approx(0.075)
    assert daily_gain(1e9, 0.1, 20.0) == pytest.approx(0.1)


def test_belonging_and_spend_follow_the_closed_form_without_decay():
    model = hand_model(
        [(0, 1)], 6, community={"budget": 10.0, "halfway": 10.0, "gain": 0.2, "decay": 0.0}
    )
    members = members_of(model, 4)
    community, ledger = model.mechanism("community"), model.world.ledger
    g = 0.2 * 10.0 / (10.0 + 10.0)
    for n in range(1, 11):
        ledger.open_day(n)
        community.upkeep(members)
        assert ledger.today.community == 33 * 4  # 10 RMB / 30 = 0.333… RMB → 33 cents each
        assert model.world.people.belonging[members] == pytest.approx(1 - (1 - g) ** n)
    assert (model.world.people.belonging[4:] == 0).all()
    assert community.spent == 10 * 33 * 4


def test_belonging_approaches_the_fixed_point_with_decay():
    model = hand_model(
        [(0, 1)], 4, community={"budget": 30.0, "halfway": 10.0, "gain": 0.2, "decay": 0.05}
    )
    members = members_of(model, 2)
    community = model.mechanism("community")
    g, d = 0.2 * 30.0 / 40.0, 0.05
    for n in range(1, 31):
        community.upkeep(members)
        expected = g / (g + d) * (1 - (1 - g - d) ** n)
        assert model.world.people.belonging[members] == pytest.approx(expected)
    for _ in range(500):
        community.upkeep(members)
    assert model.world.people.belonging[members] == pytest.approx(g / (g + d))


def unhappy_members():
    """400 members, all earning below their reservation income and past their grace
    period (each quits with 0.5 a day), belonging relieving the whole hazard."""
    model = hand_model(
        [(0, 1)],
        400,
        churn={"reservation_income": 100.0, "grace_days": 0, "quit_prob": 0.5, "inactive_days": 0},
        community={"churn_relief": 1.0},
    )
    return model, members_of(model, 400)


def test_full_relief_stops_the_hazard_for_those_who_fully_belong():
    model, members = unhappy_members()
    model.world.people.belonging[:200] = 1.0
    model.world.streams.start_day(1)
    leavers = model.mechanism("churn").churn(1)
    assert leavers.size and (leavers >= 200).all()
    assert 70 < leavers.size < 130  # half of the 200 who do not belong, give or take
    assert (model.world.people.role[members[:200]] == 1).all()


def test_belonging_lifts_every_member_s_shares_on_the_same_draws():
    pairs = [(i, (i + 1) % 300) for i in range(300)]
    model = hand_model(pairs, 300, sharing={"shares_per_day": 4.0}, community={"effort_lift": 1.0})
    members_of(model, 300)
    people, sharing = model.world.people, model.mechanism("sharing")
    people.effort[:] = 0.5
    model.world.streams.start_day(1)
    before = np.bincount(sharing.share().sender, minlength=300)
    people.belonging[:] = 1.0
    after = np.bincount(sharing.share().sender, minlength=300)
    assert (after >= before).all()
    assert after.sum() / before.sum() == pytest.approx(2.0, rel=0.15)


def test_a_zero_budget_changes_nothing_whatever_the_other_keys():
    off = days_of(churning(budget=0.0, gain=0.0, churn_relief=0.0, effort_lift=0.0))
    primed = days_of(churning(budget=0.0, gain=1.0, decay=0.0, churn_relief=1.0, effort_lift=5.0))
    pd.testing.assert_frame_equal(off, primed)
    assert (primed["mean_belonging"] == 0).all() and (primed["community_spend"] == 0).all()


def test_the_spend_comes_off_the_margin_to_the_cent():
    free = days_of(churning(budget=0.0))
    paid = days_of(churning(budget=10.0, gain=0.0))  # spends, but builds no belonging
    others = [c for c in free.columns if c not in COMMUNITY_COLUMNS]
    pd.testing.assert_frame_equal(free[others], paid[others])
    spend = np.round(paid["community_spend"] * 100).astype(np.int64)
    margin_lost = np.round((free["platform_margin"] - paid["platform_margin"]) * 100)
    assert (margin_lost.astype(np.int64) == spend).all()
    assert (spend % 33 == 0).all() and spend.sum() > 0
    served = spend // 33
    assert (served >= paid["members"]).all()
    assert (served <= paid["members"] + paid["churned_members"]).all()


def test_belonging_lowers_churn_on_the_same_seeds():
    config = dict(budget=30.0, halfway=10.0, gain=0.3, decay=0.01, effort_lift=0.0)
    runs = {}
    for relief in (0.0, 0.8):
        for seed in (1, 2, 3):
            model = SocialCommerceModel(churning(churn_relief=relief, **config), rng=seed)
            model.run()
            runs[relief, seed] = model.summary()
    quit_without = sum(runs[0.0, s]["ever_members"] - runs[0.0, s]["members"] for s in (1, 2, 3))
    quit_with = sum(runs[0.8, s]["ever_members"] - runs[0.8, s]["members"] for s in (1, 2, 3))
    assert quit_with < 0.75 * quit_without


def test_churn_by_belonging_counts_quitters_per_member_month_in_each_class():
    model, members = unhappy_members()
    model.world.people.belonging[:100] = 1.0
    community = model.mechanism("community")
    community.upkeep(members)
    model.world.streams.start_day(1)
    day = Day(1, model.policy)
    day.leavers["churned"] = model.mechanism("churn").churn(1)
    community.report(day)
    final = community.final()
    assert final["churn_high_belonging"] == 0.0
    assert final["churn_low_belonging"] == pytest.approx(30 * day.leavers["churned"].size / 300)
    assert final["churn_low_belonging"] > 0


def test_a_budget_set_mid_run_starts_spending_that_day():
    config = churning()
    config = with_overrides(
        config, {"interventions": [{"day": 20, "set": {"community.budget": 15.0}}]}
    )
    days = days_of(config).set_index("day")
    assert (days.loc[:19, "community_spend"] == 0).all()
    assert (days.loc[20:, "community_spend"] > 0).all()
    assert days.loc[20, "mean_belonging"] > 0


@pytest.mark.parametrize(
    "key, value",
    [
        ("budget", -1.0),
        ("halfway", 0.0),
        ("gain", 1.5),
        ("decay", 1.01),
        ("decay", -0.1),
        ("churn_relief", 2.0),
        ("effort_lift", -0.5),
    ],
)
def test_bad_keys_are_refused(key, value):
    with pytest.raises(ValidationError, match=f"community.{key}"):
        scenario(community={key: value})
