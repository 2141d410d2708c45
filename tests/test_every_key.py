"""No silent no-ops: every policy key, changed by an intervention, changes the run;
every world and run key is refused at load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import SocialCommerceModel, load_scenario
from simulation.scenario import ScenarioError
from simulation.scenario.schema import Scenario, scope_of
from tests.conftest import SCENARIOS

# Everything acts in this world: two products, a competitor from day 1, the feedback
# rule, training, brushing under scored audits, community spending, content with live sessions, a
# qualification rule and a short grace period.
BASE = """
extends = "{baseline}"
[population]
size = 2000
initial_members = 40
[run]
steps = 45
[churn]
grace_days = 5
circle_trust_floor = 0.3
platform_trust_floor = 0.2
[platform]
target_payout_ratio = 0.05
feedback_days = 3
organic_join_prob = 0.001
[commission]
qualification_sales = 20.0
review_days = 10
recruiting_bonus = [5.0]
renewal_fee = 5.0
renewal_days = 10
[brushing]
max_orders_per_day = 2
[risk]
targeting = "score"
[community]
budget = 10.0
[content]
effort_share = 0.3
live_every_days = 4
[[products]]
name = "tea"
[[products]]
name = "shampoo"
price = 59.0
repurchase_days = 20
shareability = 2.0
[[tiers]]
name = "member"
direct_rate = 0.1
[[tiers]]
name = "senior"
direct_rate = 0.3
min_sales = 200.0
[[competitors]]
name = "rival"
launch_day = 1
poach_prob = 0.05
direct_rate = 0.2
"""

CHANGES = {
    "sharing.shares_per_day": 6.0,
    "sharing.targeting": "matched",
    "trust.baseline": 0.8,
    "trust.recovery_rate": 0.3,
    "trust.fatigue_tolerance": 0.5,
    "trust.fatigue_decay": 0.05,
    "trust.erosion": 0.5,
    "trust.good_purchase_gain": 0.5,
    "trust.bad_purchase_loss": 0.9,
    "purchase.price": 150.0,
    "purchase.market_price": 200.0,
    "purchase.price_elasticity": 3.0,
    "purchase.gross_margin": 0.6,
    "purchase.conversion": 0.3,
    "purchase.fatigue_sensitivity": 1.5,
    "purchase.bad_experience_prob": 0.4,
    "purchase.refund_prob": 1.0,
    "purchase.refund_days": 2,
    "purchase.repurchase_days": 5,
    "purchase.repurchase_prob": 1.0,
    "purchase.self_purchase_prob": 0.3,
    "purchase.member_discount": 0.5,
    "recruitment.invite": "once",
    "recruitment.invite_prob": 0.1,
    "recruitment.horizon_days": 1000.0,
    "recruitment.income_claim": 50.0,
    "commission.entry_fee": 50.0,
    "commission.package_cost": 30.0,
    "commission.renewal_fee": 40.0,
    "commission.renewal_days": 2,
    "commission.override_rates": [0.2, 0.1],
    "commission.differential": True,
    "commission.recruiting_bonus": [40.0, 20.0],
    "commission.qualification_sales": 0.0,
    "commission.qualification_customers": 3,
    "commission.review_days": 3,
    "commission.demotion": False,
    "commission.clawback": False,
    "commission.payout_cap": 0.01,
    "churn.reservation_income": 30.0,
    "churn.grace_days": 0,
    "churn.quit_prob": 0.5,
    "churn.inactive_days": 3,
    "churn.switching_cost": 0.0,
    "churn.circle_trust_floor": 0.9,
    "churn.platform_trust_floor": 0.6,
    "platform.organic_join_prob": 0.05,
    "platform.organic_buy_prob": 0.05,
    "platform.target_payout_ratio": 0.5,
    "platform.feedback_days": 1,
    "platform.feedback_step": 0.1,
    "platform.training_budget": 5.0,
    "platform.training_effect": 5.0,
    "platform.training_halfway": 1.0,
    "platform.audit_rate": 1.0,
    "platform.detection_power": 1.0,
    "platform.ban_prob": 0.0,
    "brushing.max_orders_per_day": 0,
    "brushing.cost_share": 0.0,
    "brushing.horizon_days": 1000.0,
    "brushing.reach_days": 1,
    "risk.targeting": "random",
    "risk.spike_weight": 0.0,
    "risk.refund_weight": 5.0,
    "risk.window_days": 1.0,
    "community.budget": 0.0,
    "community.halfway": 1.0,
    "community.gain": 0.5,
    "community.decay": 0.5,
    "community.churn_relief": 1.0,
    "community.effort_lift": 3.0,
    "content.effort_share": 0.0,
    "content.posts_per_day": 5.0,
    "content.reach": 0.9,
    "content.trust": 0.9,
    "content.quality": 5.0,
    "content.live_every_days": 0,
    "content.live_reach": 1.0,
    "content.live_discount": 0.9,
    "content.recruit": 0.5,
    "competitors": [{"name": "rival", "launch_day": 1, "poach_prob": 0.5, "direct_rate": 0.9}],
    "tiers": [
        {"name": "member", "direct_rate": 0.3},
        {"name": "senior", "direct_rate": 0.4, "min_sales": 50.0},
    ],
}
REFUSED = {
    "population.size": 3000,
    "graph.mean_degree": 8.0,
    "products": [{"name": "tea"}],
    "sharing.effort_mean": 0.9,
    "sharing.hype_mean": 1.0,
    "purchase.need_mean": 0.9,
    "purchase.taste_homophily": 0.5,
    "recruitment.effort_cost": 5.0,
    "content.mean_followers": 5.0,
    "content.follower_exponent": 3.0,
    "content.local_share": 0.1,
    "content.platform_hosts": 1,
    "content.host_followers": 50,
    "run.seed": 3,
    "run.steps": 10,
    "name": "other",
    "description": "other",
}


def schema_keys() -> list[str]:
    """Every key a scenario may set: a section's keys, or a table list as one key."""
    keys = []
    for name, field in Scenario.model_fields.items():
        fields = getattr(field.annotation, "model_fields", None)
        if fields and name != "graph":
            keys += [f"{name}.{sub}" for sub in fields]
        elif name != "interventions":
            keys.append(name)
    return keys


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def intervention(key: str, value) -> str:
    """An [[interventions]] table setting `key` to `value` on day 2."""
    return f"[[interventions]]\nday = 2\nset = {{ {toml_value(key)} = {toml_value(value)} }}\n"


def scenario_with(tmp_path, name: str, interventions: str = ""):
    path = tmp_path / f"{name}.toml"
    path.write_text(BASE.format(baseline=SCENARIOS / "baseline.toml") + interventions)
    return path


def days(path) -> pd.DataFrame:
    model = SocialCommerceModel(load_scenario(path))
    model.run()
    return model.datacollector.get_model_vars_dataframe()


def test_the_tables_cover_every_key_of_the_schema():
    keys = set(schema_keys())
    assert set(CHANGES) | {k for k in REFUSED if scope_of(k) != "policy"} >= {
        k for k in keys if scope_of(k) == "policy"
    }
    assert all(scope_of(key) == "policy" for key in CHANGES)
    assert all(scope_of(key) != "policy" for key in REFUSED)
    assert {k.split(".")[0] for k in keys} == {k.split(".")[0] for k in [*CHANGES, *REFUSED]}


@pytest.fixture(scope="module")
def base_days(tmp_path_factory):
    return days(scenario_with(tmp_path_factory.mktemp("base"), "base"))


@pytest.mark.parametrize("key", sorted(CHANGES))
def test_every_policy_key_changes_the_run(tmp_path, base_days, key):
    change = (
        f"[[interventions]]\nday = 2\nset = {{ {toml_value(key)} = {toml_value(CHANGES[key])} }}\n"
    )
    changed = days(scenario_with(tmp_path, "changed", change))
    numeric = base_days.select_dtypes("number").columns
    same = np.allclose(
        base_days[numeric].to_numpy(float), changed[numeric].to_numpy(float), equal_nan=True
    )
    assert not same, f"an intervention on {key} changed nothing"


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_every_world_and_run_key_is_refused(tmp_path, key):
    change = (
        f"[[interventions]]\nday = 2\nset = {{ {toml_value(key)} = {toml_value(REFUSED[key])} }}\n"
    )
    with pytest.raises(ScenarioError, match=f"{key}.*cannot change mid-run"):
        load_scenario(scenario_with(tmp_path, "refused", change))
