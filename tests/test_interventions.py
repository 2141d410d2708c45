"""Interventions change policy on their day; the platform's feedback rule steers payouts."""

from __future__ import annotations

import pytest

from simulation import SocialCommerceModel, load_scenario
from simulation.scenario import ScenarioError
from tests.conftest import SCENARIOS

SMALL = {"population.size": 3000, "run.steps": 60, "population.initial_members": 60}


def write(tmp_path, text: str):
    path = tmp_path / "s.toml"
    path.write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\n{text}')
    return path


def test_an_intervention_changes_the_scheme_from_its_day_on(tmp_path):
    path = write(
        tmp_path,
        '[[interventions]]\nday = 30\nset = { "commission.override_rates" = [] }\n'
        'note = "overrides are cut"\n',
    )
    model = SocialCommerceModel(load_scenario(path, SMALL))
    model.run()
    books = model.world.ledger.books
    assert sum(b.override for b in books[:29]) > 0
    assert all(b.override <= 0 for b in books[29:])
    assert model.policy.commission.override_rates == []
    assert model.config.commission.override_rates == [0.03]


def test_nested_tables_and_several_interventions_apply_in_order(tmp_path):
    path = write(
        tmp_path,
        "[[interventions]]\nday = 5\n[interventions.set.commission]\nentry_fee = 50.0\n"
        '[[interventions]]\nday = 5\n[interventions.set]\n"commission.entry_fee" = 80.0\n'
        '[[interventions]]\nday = 20\nset = { "commission.entry_fee" = 0.0 }\n',
    )
    model = SocialCommerceModel(load_scenario(path, SMALL))
    model.run(10)
    assert model.mechanism("settlement").scheme.entry_fee == 8000
    assert all(b.fees % 8000 == 0 for b in model.world.ledger.books[4:])
    model.run(15)
    assert model.mechanism("settlement").scheme.entry_fee == 0


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ('set = { "commission.colour" = 1 }', "commission.colour", "unknown key"),
        ('set = { "commission.entry_fee" = -1.0 }', "commission.entry_fee", "greater than"),
        ('set = { "population.size" = 10 }', "population.size", "cannot change mid-run"),
        ('set = { "graph.kind" = "complete" }', "graph.kind", "cannot change mid-run"),
        ('set = { "sharing.hype_mean" = 1.0 }', "sharing.hype_mean", "a world key"),
        ("set = { purchase = { need_mean = 0.9 } }", "purchase.need_mean", "a world key"),
        ('set = { "run.seed" = 3 }', "run.seed", "a run key"),
    ],
)
def test_bad_interventions_name_the_intervention_and_key(tmp_path, table, key, words):
    path = write(tmp_path, f"[[interventions]]\nday = 3\n{table}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.key == key
    assert "interventions[0]" in err.value.source and words in str(err.value)


def test_the_feedback_rule_holds_the_payout_ratio_near_its_target():
    overrides = {"platform.target_payout_ratio": 0.05, "population.size": 20000}
    model = SocialCommerceModel(load_scenario(SCENARIOS / "baseline.toml", overrides))
    model.run()
    late = model.datacollector.get_model_vars_dataframe().iloc[200:]
    ratio = late["commissions_paid"].sum() / late["gmv"].sum()
    assert ratio == pytest.approx(0.05, abs=0.01)
    assert late["direct_rate"].nunique() > 1
    free = SocialCommerceModel(load_scenario(SCENARIOS / "baseline.toml"))
    free.run()
    untouched = free.datacollector.get_model_vars_dataframe()
    assert set(untouched["direct_rate"]) == {0.10}


def test_an_intervention_changes_a_competitors_offer_but_not_their_number(tmp_path):
    rival = '[[competitors]]\nname = "rival"\npoach_prob = 0.0\ndirect_rate = 0.5\n'
    quiet = write(tmp_path, rival)
    poaching = tmp_path / "p.toml"
    poaching.write_text(
        quiet.read_text() + "[[interventions]]\nday = 10\n[[interventions.set.competitors]]\n"
        'name = "rival"\npoach_prob = 0.2\ndirect_rate = 0.5\n'
    )
    before, after = (SocialCommerceModel(load_scenario(p, SMALL)) for p in (quiet, poaching))
    before.run()
    after.run()
    assert before.summary()["churned_to_competitors"] == 0
    assert after.summary()["churned_to_competitors"] > 0
    days = after.datacollector.get_model_vars_dataframe()
    assert days["churn_to_competitors"].iloc[:9].sum() == 0
    two = tmp_path / "two.toml"
    two.write_text(quiet.read_text() + "[[interventions]]\nday = 3\nset = { competitors = [] }\n")
    with pytest.raises(ScenarioError, match="competitors.*not how many"):
        load_scenario(two)
