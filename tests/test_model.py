"""The whole model: determinism, balanced books, tree invariants, metrics that add up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import SocialCommerceModel
from simulation.mechanisms.commission.chain import next_upline
from simulation.mechanisms.sharing import SHARE_COUNT
from simulation.model import METRICS
from simulation.world.ledger import LedgerImbalance
from simulation.world.people import CONSUMER, MEMBER, People, merged
from tests.conftest import scenario

FEE_AND_BONUS = {
    "commission": {
        "entry_fee": 99.0,
        "recruiting_bonus": [30.0, 10.0],
        "override_rates": [0.05, 0.03],
        "payout_cap": 0.0,
    }
}


def run(config, seed=None) -> SocialCommerceModel:
    model = SocialCommerceModel(config, rng=seed)
    model.run()
    return model


def test_same_seed_same_days_different_seed_different_days(small_scenario):
    first = run(small_scenario).datacollector.get_model_vars_dataframe()
    again = run(small_scenario).datacollector.get_model_vars_dataframe()
    other = run(small_scenario, seed=4).datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_one_row_per_day_with_the_documented_columns(small_scenario):
    table = run(small_scenario).datacollector.get_model_vars_dataframe()
    assert list(table.columns) == [m.name for m in METRICS if m.kind != "final"]
    assert list(table["day"]) == list(range(1, small_scenario.run.steps + 1))


@pytest.mark.parametrize("kind", ["watts_strogatz", "complete", "circles"])
def test_books_balance_to_the_cent_every_day(kind):
    config = scenario(
        run={"steps": 80, "seed": 11},
        population={"size": 3000, "initial_members": 30},
        graph={"kind": kind},
        purchase={"bad_experience_prob": 0.2},
        **FEE_AND_BONUS,
    )
    model = run(config)
    books = model.world.ledger.books
    assert len(books) == 80
    assert model.world.people.income.sum() == sum(b.payouts for b in books)
    assert model.world.people.fees_paid.sum() == sum(b.fees for b in books)
    assert sum(b.recruiting for b in books) > 0 and sum(b.fees for b in books) > 0
    assert sum(b.refunds for b in books) > 0 and sum(b.clawback for b in books) > 0
    table = model.datacollector.get_model_vars_dataframe()
    assert table["gmv"].sum() == pytest.approx(sum(b.net_sales for b in books) / 100)


def test_sponsor_trees_have_no_cycles_and_only_earlier_sponsors():
    config = scenario(
        run={"steps": 120, "seed": 5},
        population={"size": 3000, "initial_members": 10},
        graph={"kind": "erdos_renyi", "mean_degree": 12},
        churn={"grace_days": 10, "quit_prob": 0.05},
        **FEE_AND_BONUS,
    )
    model = run(config)
    people = model.world.people
    members = people.members
    assert np.count_nonzero(people.role == 2) > 0, "the run should have churn"
    upline = next_upline(members, people.sponsor, people.role == MEMBER)
    assert not np.any(upline == members)
    sponsored = upline >= 0
    assert np.all(people.role[upline[sponsored]] == MEMBER)
    assert np.all(people.joined_day[upline[sponsored]] <= people.joined_day[members[sponsored]])
    assert np.all(people.sponsor[people.role == CONSUMER] == -1)


def test_member_lists_kept_as_people_join_and_leave_equal_the_roles():
    config = scenario(
        run={"steps": 90, "seed": 8},
        population={"size": 3000, "initial_members": 10},
        platform={"organic_join_prob": 0.0005},
        recruitment={"effort_cost": 0.0},
        churn={"grace_days": 10, "quit_prob": 0.05},
    )
    model = SocialCommerceModel(config)
    people = model.world.people
    for days in (1, 29, 60):  # ever_members asked for after one day, then after many
        model.run(days)
        assert np.array_equal(people.members, np.flatnonzero(people.role == MEMBER))
        assert people.ever_count == np.count_nonzero(people.role != CONSUMER)
        assert np.array_equal(people.ever_members, np.flatnonzero(people.role != CONSUMER))
        assert np.array_equal(people.roots, np.flatnonzero(people.tree_size > 0))
    assert np.count_nonzero(people.role == 2) > 0 and people.roots.size > 10


@pytest.mark.parametrize("seed", range(4))
def test_member_lists_merge_and_remove_as_sets_do(seed):
    rng = np.random.default_rng(seed)
    for _ in range(300):
        pool = rng.permutation(200)
        ids = np.sort(pool[: rng.integers(0, 80)])
        fresh = pool[ids.size : ids.size + rng.integers(0, 40)]
        fresh = np.concatenate([fresh, fresh[: rng.integers(0, fresh.size + 1)]])
        union = merged(ids, fresh)
        assert np.array_equal(union, np.union1d(ids, fresh)) and union.dtype == ids.dtype
        assert fresh.size == 0 or not union.flags.writeable
        people = People(200)
        people.join(union, np.full(union.size, -1), 0)
        leavers = rng.integers(0, 200, rng.integers(1, 30))
        people.leave(leavers, 1)
        assert np.array_equal(people.members, np.setdiff1d(union, leavers))
    everyone = np.arange(50)
    assert np.array_equal(merged(np.empty(0, dtype=np.int64), everyone[::-1]), everyone)
    assert np.array_equal(merged(everyone[10:20], everyone[:10]), everyone[:20])
    assert np.array_equal(merged(everyone[:10], everyone[10:20]), everyone[:20])


def test_the_summary_agrees_with_the_days(small_scenario):
    model = run(small_scenario)
    table = model.datacollector.get_model_vars_dataframe()
    summary = model.summary()
    assert summary["orders"] == table["orders"].sum()
    assert summary["members"] == table["members"].iloc[-1]
    assert (
        summary["ever_members"]
        == small_scenario.population.initial_members + table["new_members"].sum()
    )
    assert summary["commissions_paid"] == pytest.approx(table["commissions_paid"].sum())
    assert summary["peak_join_day"] == table["day"][table["new_members"].idxmax()]
    assert summary["final_penetration"] == table["penetration"].iloc[-1]


def test_fees_and_bonuses_show_in_the_compliance_indicators():
    config = scenario(
        run={"steps": 120, "seed": 2},
        population={"size": 3000, "initial_members": 100},
        recruitment={"effort_cost": 5.0, "income_claim": 2.0},
        **FEE_AND_BONUS,
    )
    summary = run(config).summary()
    assert 0 < summary["recruitment_reward_share"] < 1
    assert 0 < summary["entry_fee_share"] < 1
    assert summary["paid_depth"] == 2
    assert summary["loss_fraction"] > 0


def test_exposures_match_sharing_and_fatigue_lowers_conversion():
    base = {
        "run": {"steps": 60, "seed": 8},
        "population": {"size": 3000, "initial_members": 300},
        "recruitment": {"invite_prob": 0.0},
        "churn": {"quit_prob": 0.0, "inactive_days": 0},
    }
    calm = run(scenario(**base, sharing={"shares_per_day": 2.0}))
    flooded = run(scenario(**base, sharing={"shares_per_day": 20.0}))
    calm_day = calm.datacollector.get_model_vars_dataframe()
    flood_day = flooded.datacollector.get_model_vars_dataframe()
    assert calm_day["exposures"].mean() == pytest.approx(300 * 2.0 * 0.5, rel=0.1)
    assert flood_day["conversion_rate"].mean() < 0.5 * calm_day["conversion_rate"].mean()
    assert flood_day["mean_trust"].iloc[-1] < calm_day["mean_trust"].iloc[-1]


def test_policy_changes_keep_the_world_and_the_decision_streams():
    base = scenario(run={"steps": 5, "seed": 4}, population={"size": 2000, "initial_members": 20})
    policy = base.model_copy(
        update={"commission": base.commission.model_copy(update={"override_rates": [0.2]})}
    )
    world = base.model_copy(update={"graph": base.graph.model_copy(update={"mean_degree": 12.0})})
    a, b, c = (SocialCommerceModel(s) for s in (base, policy, world))
    assert np.array_equal(a.world.graph.indices, b.world.graph.indices)
    assert np.array_equal(a.world.people.need, b.world.people.need)
    assert np.array_equal(a.world.people.role, b.world.people.role)
    assert not np.array_equal(a.world.people.need, c.world.people.need)
    everyone = np.arange(base.population.size)
    draws = (m.world.streams.draw(SHARE_COUNT, everyone) for m in (a, b))
    assert np.array_equal(*draws)
    a.run(3)
    b.run(3)
    day_a, day_b = (m.datacollector.get_model_vars_dataframe() for m in (a, b))
    assert list(day_a["exposures"]) == list(day_b["exposures"])


def test_per_person_snapshots_only_on_request(small_scenario):
    model = run(small_scenario)
    table = model.datacollector.get_model_vars_dataframe()
    assert len(table) == small_scenario.run.steps
    snapshot = model.snapshot()
    assert len(snapshot) == model.summary()["ever_members"]
    assert snapshot["income"].sum() == pytest.approx(model.world.people.income.sum() / 100)
    assert len(model.snapshot(everyone=True)) == small_scenario.population.size


# Public names of mesa.Model in Mesa 3.5 (read from its model.py and HasObservables),
# checked on every stack so a Mesa 3.3 run also catches a name that 3.5 owns.
MESA_35_MODEL_NAMES = {
    "agent_id_counter", "agent_types", "agents", "agents_by_type", "batch",
    "clear_all_subscriptions", "data_registry", "deregister_agent", "notify", "observables",
    "observe", "random", "register_agent", "remove_all_agents", "reset_randomizer",
    "reset_rng", "rng", "run_for", "run_model", "run_until", "running", "scenario",
    "schedule_event", "schedule_recurring", "step", "steps", "subscribers", "suppress",
    "time", "unobserve",
}  # fmt: skip


def test_the_model_takes_none_of_mesas_own_names(small_scenario):
    import mesa

    class Bare(mesa.Model):  # what Mesa itself puts on any subclass and instance
        pass

    bare = Bare(rng=1)
    mesa_names = MESA_35_MODEL_NAMES | set(dir(bare)) | set(vars(bare))
    model = SocialCommerceModel(small_scenario)
    ours = set(vars(model)) - set(vars(bare))
    ours |= {name for name in vars(SocialCommerceModel) if name not in vars(Bare)}
    assert ours & mesa_names == {"__init__", "step"}  # what Mesa asks a model to define
    model.step()
    assert model.steps == 1 and model.config is small_scenario


def test_a_double_posting_or_a_lost_refund_stops_the_run(small_scenario, monkeypatch):
    config = small_scenario.model_copy(
        update={"purchase": small_scenario.purchase.model_copy(update={"bad_experience_prob": 0.5})}
    )
    model = SocialCommerceModel(config)
    ledger = model.world.ledger
    post_payouts = ledger.post_payouts

    def twice(*lines):
        post_payouts(*lines)
        post_payouts(*lines)

    monkeypatch.setattr(ledger, "post_payouts", twice)
    with pytest.raises(LedgerImbalance, match="payouts posted .* but payout lines net of"):
        model.run()
    model = SocialCommerceModel(config)
    ledger = model.world.ledger
    post_refunds = ledger.post_refunds
    monkeypatch.setattr(
        ledger, "post_refunds", lambda amount, fake, lines: post_refunds(0, 0, lines)
    )
    with pytest.raises(LedgerImbalance, match=r"refunds posted 0 but orders refunded [1-9]"):
        model.run()


def test_economic_figures_are_net_of_fake_orders_and_refunds():
    config = scenario(
        run={"steps": 90, "seed": 8},
        population={"size": 3000, "initial_members": 60},
        brushing={"max_orders_per_day": 3},
        platform={"audit_rate": 0.2},
        purchase={"bad_experience_prob": 0.2},
    )
    model = run(config)
    summary, books = model.summary(), model.world.ledger.books
    fake = sum(b.brushed_sales for b in books)
    assert fake > 0 and sum(b.brushed_refunds for b in books) > 0
    assert sum(b.brushed_payouts for b in books) > 0
    assert 0 < sum(b.brushed_cost_of_goods for b in books) < fake
    real = sum(b.sales - b.brushed_sales - (b.refunds - b.brushed_refunds) for b in books)
    assert summary["gmv"] == pytest.approx(real / 100)
    assert summary["brushed_gmv"] == pytest.approx(fake / 100)
    assert summary["gmv"] < sum(b.sales - b.refunds for b in books) / 100
    paid = sum(b.payouts for b in books) / 100
    assert summary["commissions_paid"] + summary["brushed_commissions"] == pytest.approx(paid)
    cash = sum(
        b.sales - b.refunds + b.fees - b.payouts - b.cost_of_goods - b.training for b in books
    )
    assert summary["platform_margin"] + summary["brushed_margin"] == pytest.approx(cash / 100)
    people = model.world.people
    assert summary["brushing_cost"] == pytest.approx(people.brush_cost.sum() / 100)
    assert summary["brushing_cost"] > 0
    daily = model.datacollector.get_model_vars_dataframe()
    assert daily["gmv"].sum() == pytest.approx(summary["gmv"])
    assert daily["brushed_gmv"].sum() == pytest.approx(summary["brushed_gmv"])


def test_a_days_book_splits_fake_orders_from_the_real_business():
    from simulation.world.ledger import DayBook

    book = DayBook(
        day=1,
        sales=10_000,
        refunds=1_500,
        fees=500,
        cost_of_goods=6_500,
        training=100,
        direct=1_200,
        brushed_sales=3_000,
        brushed_cost_of_goods=1_950,
        brushed_refunds=1_000,
        brushed_payouts=300,
    )
    assert book.net_sales == 7_000 - 500
    assert book.brushed_margin == 3_000 - 1_000 - 1_950 - 300
    assert book.margin == 6_500 + 500 - (1_200 - 300) - (6_500 - 1_950) - 100
    cash = 10_000 - 1_500 + 500 - 1_200 - 6_500 - 100
    assert book.margin + book.brushed_margin == cash


def test_members_pay_the_renewal_fee_each_period_and_newcomers_weigh_it():
    config = scenario(
        run={"steps": 12, "seed": 2},
        population={"size": 200, "initial_members": 10},
        recruitment={"invite_prob": 0.0},
        platform={"organic_join_prob": 0.0},
        churn={"inactive_days": 0},
        commission={"renewal_fee": 10.0, "renewal_days": 5},
    )
    model = run(config)
    founders = model.world.people.members
    assert founders.size == 10  # joined on day 0, renewed on days 5 and 10
    assert list(model.world.people.fees_paid[founders]) == [2000] * 10
    assert model.summary()["fee_revenue"] == 200.0
    assert [b.fees for b in model.world.ledger.books if b.fees] == [10_000, 10_000]
    recruitment = model.mechanism("recruitment")
    weighed = recruitment.joining_cost(np.array([0])) - model.world.people.join_cost[0]
    assert weighed == pytest.approx(10.0 * 180.0 / 5)
    model = SocialCommerceModel(config)
    ledger = model.world.ledger
    post_fees = ledger.post_fees
    ledger.post_fees = lambda payers, fee: post_fees(payers, 0 if fee == 1000 else fee)
    with pytest.raises(LedgerImbalance, match="fees posted 0 but fees owed 10000"):
        model.run()
