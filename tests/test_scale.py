"""population.scale: how many real people a simulated one stands for. It changes how
counts and money are shown, never the run."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation import SocialCommerceModel, load_scenario
from simulation.mechanisms.base import Metric
from simulation.model import METRICS
from simulation.scenario import ScenarioError, with_overrides
from simulation.scenario.reference import keys
from simulation.scenario.schema import scope_of, world_values
from simulation.viz.tables import format_summary
from tests.conftest import SCENARIOS

SMALL = {"population.size": 1500, "population.initial_members": 10, "run.steps": 50}
SCALE = 1000.0


def run(scale: float) -> SocialCommerceModel:
    model = SocialCommerceModel(
        load_scenario(SCENARIOS / "baseline.toml", SMALL | {"population.scale": scale}), rng=7
    )
    model.run()
    return model


@pytest.fixture(scope="module")
def runs() -> tuple[SocialCommerceModel, SocialCommerceModel]:
    return run(1.0), run(SCALE)


def test_scale_changes_neither_the_world_nor_the_run(runs):
    plain, scaled = runs
    assert world_values(plain.config) == world_values(scaled.config)
    pd.testing.assert_frame_equal(
        plain.datacollector.get_model_vars_dataframe(),
        scaled.datacollector.get_model_vars_dataframe(),
    )
    one, many = plain.summary(), scaled.summary()
    assert (one["scale"], many["scale"]) == (1.0, SCALE)
    assert one["scenario_hash"] == many["scenario_hash"]
    assert set(one) == set(many)
    differ = {key for key in one if one[key] != many[key] and one[key] == one[key]}
    assert differ == {"scale"}
    assert one["ever_members"] > 0 and one["gmv"] > 0


def cells(text: str, label: str) -> list[str]:
    """The values on the summary line of `label`, after the label."""
    (line,) = [line for line in text.splitlines() if line.startswith(label + "  ")]
    return line[len(label) :].split()


def test_format_summary_adds_real_units_for_counts_and_money_only(runs):
    plain, scaled = runs
    summary = scaled.summary()
    text = format_summary(summary)
    assert text.splitlines()[0].endswith(f"(real units: × {SCALE:,.6g} people each)")
    count = f"{summary['members']:,}"
    assert cells(text, "members at the end") == [count, f"{summary['members'] * SCALE:,.0f}"]
    ever = summary["ever_members"]
    assert cells(text, "members ever") == [f"{ever:,}", f"{ever * SCALE:,.0f}"]
    gmv = summary["gmv"]
    assert gmv * SCALE >= 1e6
    assert cells(text, "GMV, net of fakes and refunds (RMB)") == [
        f"{gmv:,.2f}",
        f"{gmv * SCALE / 1e6:,.2f}",
        "M",
    ]
    assert cells(text, "final penetration") == [f"{summary['final_penetration']:.1%}"]
    assert cells(text, "income Gini") == [f"{summary['income_gini']:.3f}"]
    assert cells(text, "median member net income") == [f"{summary['median_net_income']:,.2f}"]
    unscaled = format_summary(plain.summary())
    assert "real units" not in unscaled
    assert cells(unscaled, "members at the end") == [count]
    assert cells(unscaled, "members ever") == [f"{ever:,}"]


def test_an_intervention_cannot_change_the_scale(tmp_path):
    assert scope_of("population.scale") == "world"
    path = tmp_path / "s.toml"
    path.write_text(
        f'extends = "{SCENARIOS / "baseline.toml"}"\n'
        '[[interventions]]\nday = 3\nset = { "population.scale" = 10.0 }\n'
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.key == "population.scale"
    assert "interventions[0]" in err.value.source and "cannot change mid-run" in str(err.value)


@pytest.mark.parametrize("value", [0.0, -2.0])
def test_scale_must_be_positive(value):
    base = load_scenario(SCENARIOS / "baseline.toml")
    with pytest.raises(ScenarioError, match="population.scale"):
        with_overrides(base, {"population.scale": value})


def declared(name: str) -> list[Metric]:
    return [m for m in METRICS if m.name == name]


@pytest.mark.parametrize("name", ["gmv", "members", "orders"])
def test_counts_and_money_are_extensive(name):
    assert declared(name) and all(m.extensive for m in declared(name))


@pytest.mark.parametrize(
    "name", ["median_net_income", "penetration", "retail_customers_per_member"]
)
def test_medians_shares_and_per_member_figures_are_not(name):
    assert declared(name) and not any(m.extensive for m in declared(name))


@pytest.mark.parametrize(
    ("unit", "extensive"),
    [
        ("people", True),
        ("people per day", True),
        ("orders per day", True),
        ("shares", True),
        ("RMB", True),
        ("RMB per day", True),
        ("RMB per member", False),
        ("share", False),
        ("customers", False),
        ("orders per share received", False),
        ("days", False),
    ],
)
def test_extensive_reads_the_unit(unit, extensive):
    assert Metric("x", "x", unit, "{}", "x", "daily").extensive is extensive


def test_the_key_reference_lists_the_scale_as_a_run_key_in_a_world_section():
    scopes = {row["key"]: row["scope"] for row in keys("population")}
    assert scopes == {
        "population.size": "world",
        "population.initial_members": "world",
        "population.scale": "run",
    }
