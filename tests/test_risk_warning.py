"""Risk warning (风险预警, §7.18): the desk's scores, how it spends the audit budget, that
it never reads which orders are fake, and what targeting changes in a brushing world."""

from __future__ import annotations

import numpy as np
import pytest

import simulation.model as model_module
from simulation import SocialCommerceModel, load_scenario
from simulation.mechanisms.base import Day
from simulation.mechanisms.risk_warning import allocate, refund_scores, spike_scores
from simulation.scenario import ScenarioError
from simulation.scenario.loading import with_overrides
from simulation.world.orders import FAKE_BUYER, NO_REFUND, Orders
from tests.conftest import SCENARIOS, hand_model


def test_spike_score_is_the_poisson_z_score_with_a_floor_of_one_order():
    # (5 − 4)/√4 = 0.5; (5 − 0.25)/√1 = 4.75 (floor); (0 − 9)/√9 = −3
    scores = spike_scores(np.array([5.0, 5.0, 0.0]), np.array([4.0, 0.25, 9.0]))
    assert scores == pytest.approx([0.5, 4.75, -3.0])


def test_refund_score_is_the_binomial_z_score_against_the_platform_share():
    # platform share 0.1: 100 orders expect 10 refunds, variance 9 → (16 − 10)/3 = 2;
    # 5 orders expect 0.5, variance 0.45 floored to 1 → (0 − 0.5)/1 = −0.5
    scores = refund_scores(np.array([16.0, 0.0]), np.array([100.0, 5.0]), 0.1)
    assert scores == pytest.approx([2.0, -0.5])


SELLERS = np.array([10, 11, 12])
COUNTS = np.array([4, 2, 3])
SCORES = np.array([1.0, 5.0, 3.0])


def test_the_budget_goes_to_whole_sellers_in_descending_score():
    # 11 (2 orders) then 12 (3): 5 orders spend a budget of 5 exactly; 10 is not reached.
    assert list(allocate(SELLERS, COUNTS, SCORES, 5.0, luck=0.0)) == [11, 12]
    assert list(allocate(SELLERS, COUNTS, SCORES, 1.9, luck=0.0)) == [11]
    assert list(allocate(SELLERS, COUNTS, SCORES, 100.0, luck=0.99)) == [10, 11, 12]
    assert allocate(SELLERS, COUNTS, SCORES, 0.0, luck=0.0).size == 0


def test_the_seller_the_budget_runs_out_in_is_audited_with_the_share_left():
    # budget 6: 5 orders go to 11 and 12; 1 of 10's 4 orders is left, so 10 is audited
    # whole with probability 1/4.
    assert list(allocate(SELLERS, COUNTS, SCORES, 6.0, luck=0.24)) == [10, 11, 12]
    assert list(allocate(SELLERS, COUNTS, SCORES, 6.0, luck=0.26)) == [11, 12]


@pytest.mark.parametrize("budget", [0.0, 0.7, 2.0, 3.5, 6.0, 8.25, 9.0])
def test_orders_audited_equal_the_budget_in_expectation(budget):
    luck = (np.arange(10_000) + 0.5) / 10_000
    audited = [
        COUNTS[np.isin(SELLERS, allocate(SELLERS, COUNTS, SCORES, budget, u))].sum() for u in luck
    ]
    assert np.mean(audited) == pytest.approx(budget)


def test_ties_go_to_the_lower_id():
    assert list(allocate(SELLERS, np.ones(3, int), np.zeros(3), 2.0, luck=0.0)) == [10, 11]


def desk(**platform):
    """A hand-built world of six people with the desk scoring; people 0–5 sell."""
    model = hand_model(
        [],
        6,
        risk={"targeting": "score", "window_days": 4.0},
        platform={"audit_rate": 0.5, "detection_power": 1.0} | platform,
        brushing={"max_orders_per_day": 3},
    )
    return model, model.mechanism("risk warning")


def orders_of(sellers, brushed=None) -> Orders:
    sellers = np.asarray(sellers, dtype=np.int64)
    fake = np.zeros(sellers.size, bool) if brushed is None else np.asarray(brushed)
    return Orders(
        seller=sellers,
        buyer=np.where(fake, FAKE_BUYER, 5),
        amount=np.full(sellers.size, 100),
        cost_of_goods=np.full(sellers.size, 50),
        brushed=fake,
    )


def test_a_hand_built_day_audits_the_spiking_seller_and_catches_its_fakes():
    model, risk = desk()
    people = model.world.people
    # history: seller 0 sold 1 a day, seller 2 sold 2 a day, seller 1 nothing (yesterday)
    people.risk_order_mean[[0, 1, 2]] = [1.0, 0.0, 2.0]
    people.risk_seen_day[[0, 1, 2]] = 9
    day = Day(10, model.policy)
    day.orders["share"] = orders_of([0, 2, 2])
    day.orders["fake"] = orders_of([1, 1, 1], brushed=[True, True, True])
    # spikes: 0 → (1 − 1)/1 = 0; 1 → (3 − 0)/1 = 3; 2 → (2 − 2)/√2 = 0.
    # budget 0.5 × 6 = 3 orders: all of seller 1's, nobody else's.
    risk.step(day)
    assert list(day.orders["fake"].refund_day) == [11, 11, 11]
    assert risk.report(day) == {
        "audit_budget": 3.0,
        "audited_orders": 3,
        "audit_precision": 1.0,
        "audit_recall": 1.0,
        "brushed_kept_share": 0.0,
    }
    assert risk.final() == risk.report(day)  # one day: the run's totals are the day's
    # the trailing means take today in with weight 1/4
    assert people.risk_order_mean[[0, 1, 2]] == pytest.approx([1.0, 0.75, 2.0])
    assert list(people.risk_orders[[0, 1, 2]]) == [1, 3, 2]


def test_trailing_means_decay_over_the_days_a_seller_sold_nothing():
    model, risk = desk()
    risk.remember(np.array([3]), np.array([2]), 1)  # 0.25 × 2 = 0.5 after day 1
    # at day 4, days 2 and 3 were empty: 0.5 × 0.75² up to yesterday
    assert risk.trailing_mean(np.array([3]), 4) == pytest.approx([0.5 * 0.75**2])


def test_audits_do_not_follow_which_orders_are_fake():
    """Two sellers with the same history and order counts: whichever one faked, the
    desk audits the same one (ties to the lower id), so it cannot be reading the truth."""
    audited = []
    for fake_seller in (3, 4):
        model, risk = desk()
        day = Day(10, model.policy)
        real = 7 - fake_seller
        day.orders["share"] = orders_of([real, real])
        day.orders["fake"] = orders_of([fake_seller] * 2, brushed=[True, True])
        sellers, counts = np.array([3, 4]), np.array([2, 2])
        audited.append(list(risk.audit(day, sellers, counts)))
        caught = day.orders["fake"].refund_day != NO_REFUND
        assert caught.all() == (fake_seller == 3)
    assert audited == [[3], [3]]


def test_shuffling_the_fake_flag_leaves_scores_and_audits_alone():
    rng = np.random.default_rng(1)
    results = []
    for shuffle in range(3):
        model, risk = desk(audit_rate=0.3)
        people = model.world.people
        people.risk_order_mean[:] = [0.5, 1.0, 2.0, 0.0, 3.0, 1.5]
        sellers = np.repeat(np.arange(6), [1, 4, 2, 3, 3, 1])
        brushed = rng.permutation(np.arange(sellers.size) < 5)
        day = Day(10, model.policy)
        day.orders["share"] = orders_of(sellers[~brushed])
        day.orders["fake"] = orders_of(sellers[brushed], brushed=brushed[brushed])
        ids, counts = np.unique(sellers, return_counts=True)
        results.append((list(risk.scores(ids, counts, 10)), list(risk.audit(day, ids, counts))))
        assert shuffle == 0 or results[-1] == results[0]


def small(path, steps=120, size=3000, **overrides):
    config = load_scenario(path)
    changes = {"population.size": size, "run.steps": steps} | overrides
    return with_overrides(config, changes)


def run(config, seed, plan=None, monkeypatch=None):
    if plan is not None:
        monkeypatch.setattr(model_module, "PLAN", plan)
    model = SocialCommerceModel(config, rng=seed)
    model.run()
    return model


@pytest.mark.parametrize(
    "path", [SCENARIOS / "baseline.toml", SCENARIOS / "studies" / "crackdown.toml"]
)
def test_random_targeting_changes_nothing_in_the_run(path, monkeypatch):
    """The desk under "random" only watches: every figure of the run is the one the
    plan without it gives (the crackdown raises its audits on day 180)."""
    config = small(path, steps=200)
    with_desk = run(config, 4)
    without = run(
        config, 4, tuple(c for c in model_module.PLAN if c.name != "risk warning"), monkeypatch
    )
    desk_metrics = {m.name for m in with_desk.mechanism("risk warning").metrics}
    a, b = without.summary(), with_desk.summary()
    assert [k for k in b if k not in desk_metrics] == list(a)
    assert all(a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]) for k in a)  # nan is nan
    series = with_desk.datacollector.get_model_vars_dataframe()
    before = without.datacollector.get_model_vars_dataframe()
    assert series.drop(columns=sorted(desk_metrics)).equals(before)


BRUSHING_WORLD = SCENARIOS / "studies" / "crackdown.toml"


@pytest.fixture(scope="module")
def paired():
    """Random and scored audits on the same seeds of a brushing world (the crackdown's
    steep ladder without its crackdown: audits at the baseline's 5%)."""
    base = small(BRUSHING_WORLD, interventions=[])
    scored = with_overrides(base, {"risk.targeting": "score"})
    return [(run(base, seed).summary(), run(scored, seed)) for seed in (1, 2, 3)]


def test_scored_audits_spend_the_budget():
    config = small(
        BRUSHING_WORLD, interventions=[], **{"risk.targeting": "score", "platform.audit_rate": 0.5}
    )
    days = run(config, 1).datacollector.get_model_vars_dataframe()
    spent, budget = days.audited_orders.sum(), days.audit_budget.sum()
    # each day only the last seller reached is a coin flip (over its few orders)
    assert abs(spent - budget) < 0.03 * budget
    assert (days.audit_budget <= 0.5 * days.orders).all()


def test_scored_audits_catch_more_fakes_and_leave_fewer(paired):
    kept = []
    for random, model in paired:
        scored = model.summary()
        assert scored["audit_precision"] > 2 * random["audit_precision"]
        assert scored["audit_recall"] > random["audit_recall"]
        assert scored["brushed_caught_share"] > random["brushed_caught_share"]
        kept.append(scored["brushed_kept_share"] - random["brushed_kept_share"])
    # how much brushing goes on differs run to run; over the seeds, fewer fakes stay
    assert np.mean(kept) < 0


def test_the_keys_are_reachable_and_checked():
    config = with_overrides(load_scenario(SCENARIOS / "baseline.toml"), {"risk.targeting": "score"})
    assert config.risk.targeting == "score"
    with pytest.raises(ScenarioError, match="risk.targeting"):
        with_overrides(config, {"risk.targeting": "smart"})
    with pytest.raises(ScenarioError, match="risk.window_days"):
        with_overrides(config, {"risk.window_days": 0.5})
