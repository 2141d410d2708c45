"""Scenario files: inheritance, overrides, and errors that name the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation.scenario import (
    ScenarioError,
    load_scenario,
    parse_override,
    scenario_hash,
    with_overrides,
)
from simulation.scenario.loading import scenario_toml
from simulation.scenario.schema import scope_of, world_keys
from simulation.world.streams import follower_key, world_key
from tests.conftest import SCENARIOS


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_baseline_loads_with_every_section_set():
    scenario = load_scenario(SCENARIOS / "baseline.toml")
    assert scenario.name == "baseline"
    assert scenario.population.size == 20_000
    assert scenario.graph.kind == "watts_strogatz"


def test_baseline_sets_every_key_explicitly():
    import tomllib

    raw = tomllib.loads((SCENARIOS / "baseline.toml").read_text())
    dumped = load_scenario(SCENARIOS / "baseline.toml").model_dump()
    for section, keys in dumped.items():
        if isinstance(keys, dict):
            assert set(raw[section]) == set(keys), section


def test_extends_merges_and_child_wins(tmp_path):
    write(tmp_path, "base.toml", "[population]\nsize = 500\ninitial_members = 5\n")
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n[population]\nsize = 800\n')
    scenario = load_scenario(child)
    assert scenario.population.size == 800
    assert scenario.population.initial_members == 5
    assert scenario.name == "child"


def test_extends_accepts_absolute_paths(tmp_path):
    base = write(tmp_path, "base.toml", "[run]\nsteps = 7\n")
    (tmp_path / "elsewhere").mkdir()
    child = write(tmp_path / "elsewhere", "child.toml", f'extends = "{base}"\n')
    assert load_scenario(child).run.steps == 7


def test_changing_graph_kind_drops_keys_of_the_old_kind(tmp_path):
    write(tmp_path, "base.toml", '[graph]\nkind = "watts_strogatz"\nrewire_prob = 0.3\n')
    child = write(tmp_path, "c.toml", 'extends = "base.toml"\n[graph]\nkind = "erdos_renyi"\n')
    assert load_scenario(child).graph.kind == "erdos_renyi"
    by_set = load_scenario(tmp_path / "base.toml", {"graph.kind": "barabasi_albert"})
    assert by_set.graph.kind == "barabasi_albert"


def test_overrides_are_type_checked_like_the_file():
    scenario = load_scenario(
        SCENARIOS / "baseline.toml", dict([parse_override("population.size=1234")])
    )
    assert scenario.population.size == 1234
    with pytest.raises(ScenarioError) as err:
        load_scenario(SCENARIOS / "baseline.toml", dict([parse_override("population.size=abc")]))
    assert err.value.source == "--set"
    assert err.value.key == "population.size"


def test_parse_override_reads_toml_values_and_falls_back_to_text():
    assert parse_override("commission.override_rates=[0.1, 0.05]") == (
        "commission.override_rates",
        [0.1, 0.05],
    )
    assert parse_override("graph.kind=circles") == ("graph.kind", "circles")
    with pytest.raises(ScenarioError):
        parse_override("no-equals-sign")


def test_edgelist_path_is_relative_to_the_file_that_names_it(tmp_path):
    (tmp_path / "data").mkdir()
    write(tmp_path / "data", "g.txt", "0 1\n1 2\n")
    write(tmp_path, "base.toml", '[graph]\nkind = "edgelist"\npath = "data/g.txt"\n')
    (tmp_path / "sub").mkdir()
    child = write(tmp_path / "sub", "child.toml", 'extends = "../base.toml"\n')
    scenario = load_scenario(child)
    assert Path(scenario.graph.path) == (tmp_path / "data" / "g.txt").resolve()


def test_hash_ignores_seed_and_name_but_not_parameters():
    base = load_scenario(SCENARIOS / "baseline.toml")
    reseeded = load_scenario(SCENARIOS / "baseline.toml", {"run.seed": 9, "name": "x"})
    changed = load_scenario(SCENARIOS / "baseline.toml", {"sharing.shares_per_day": 2.0})
    assert scenario_hash(base) == scenario_hash(reseeded)
    assert scenario_hash(base) != scenario_hash(changed)


@pytest.mark.parametrize(
    "name",
    [
        "validation/bass.toml",
        "studies/vertical_specialisation.toml",
        "studies/crackdown.toml",
        "studies/competitor_entry.toml",
    ],
)
def test_resolved_scenario_round_trips(tmp_path, name):
    scenario = load_scenario(SCENARIOS / name)
    again = load_scenario(write(tmp_path, "resolved.toml", scenario_toml(scenario)))
    assert again.model_dump() == scenario.model_dump()


BAD_FILES = [
    ("[population]\nsize = 10\nunknown_key = 1\n", "population.unknown_key", "unknown key"),
    ('[population]\nsize = "ten"\n', "population.size", "valid integer"),
    ("[population]\nsize = -5\n", "population.size", "greater than 0"),
    ("[recruitment]\ninvite_prob = 1.5\n", "recruitment.invite_prob", "less than or equal to 1"),
    ('[graph]\nkind = "hypercube"\n', "graph", "kind"),
    ('[graph]\nkind = "erdos_renyi"\nrewire_prob = 0.1\n', "graph.rewire_prob", "unknown key"),
    ("[population]\nsize = 10\ninitial_members = 11\n", "population.initial_members", "exceeds"),
    ('[[tiers]]\nname = "a"\ndirect_rate = 0.1\nmin_sales = 5.0\n', "tiers.0", "entry tier"),
    ('[[tiers]]\nname = "a"\n', "tiers.0.direct_rate", "Field required"),
    ('[recruitment]\ninvite = "sometimes"\n', "recruitment.invite", "once"),
]


@pytest.mark.parametrize(("text", "key", "words"), BAD_FILES)
def test_bad_values_name_the_file_and_key(tmp_path, text, key, words):
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.source == str(path)
    assert err.value.key == key
    assert words in str(err.value)
    assert "\n" not in str(err.value)


def test_error_names_the_parent_file_that_set_the_bad_key(tmp_path):
    base = write(tmp_path, "base.toml", "[sharing]\nshares_per_day = -1.0\n")
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(child)
    assert err.value.source == str(base.resolve())
    assert err.value.key == "sharing.shares_per_day"


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "absent.toml")


def test_missing_parent(tmp_path):
    child = write(tmp_path, "child.toml", 'extends = "absent.toml"\n')
    with pytest.raises(ScenarioError, match="no such scenario file") as err:
        load_scenario(child)
    assert err.value.key == "extends"


def test_toml_syntax_error(tmp_path):
    path = write(tmp_path, "broken.toml", "[population\nsize = 3\n")
    with pytest.raises(ScenarioError, match="TOML syntax error") as err:
        load_scenario(path)
    assert err.value.source == str(path)


def test_extends_cycle(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="cycle: a.toml -> b.toml -> a.toml") as err:
        load_scenario(tmp_path / "a.toml")
    assert err.value.key == "extends"


def test_missing_edgelist_file_names_the_key(tmp_path):
    path = write(tmp_path, "g.toml", '[graph]\nkind = "edgelist"\npath = "absent.txt"\n')
    with pytest.raises(ScenarioError, match="no such file") as err:
        load_scenario(path)
    assert err.value.key == "graph.path"
    assert err.value.source == str(path.resolve())


def test_world_keys_and_only_they_key_the_world_stream():
    keys = world_keys()
    assert {"population", "graph", "products", "sharing.hype_mean", "sharing.effort_mean"} <= set(
        keys
    )
    assert all(scope_of(key) == "world" for key in keys)
    base = load_scenario(SCENARIOS / "baseline.toml")
    changed = {
        "population.size": 1000,
        "graph.mean_degree": 8.0,
        "sharing.effort_mean": 0.3,
        "sharing.hype_mean": 0.4,
        "purchase.need_mean": 0.3,
        "purchase.taste_homophily": 0.2,
        "recruitment.effort_cost": 50.0,
        "products": [{"name": "tea"}],
    }
    # The follower graph's keys key its own stream, leaving the rest of the world alone.
    followers = {
        "content.mean_followers": 5.0,
        "content.follower_exponent": 3.0,
        "content.local_share": 0.1,
        "content.platform_hosts": 1,
        "content.host_followers": 50,
    }
    assert all(any(c == k or c.startswith(k + ".") for c in changed | followers) for k in keys)
    for key, value in changed.items():
        assert world_key(with_overrides(base, {key: value})) != world_key(base), key
        assert follower_key(with_overrides(base, {key: value})) != follower_key(base), key
    for key, value in followers.items():
        assert world_key(with_overrides(base, {key: value})) == world_key(base), key
        assert follower_key(with_overrides(base, {key: value})) != follower_key(base), key
    for key, value in {"commission.entry_fee": 99.0, "sharing.shares_per_day": 5.0}.items():
        assert scope_of(key) == "policy"
        assert world_key(with_overrides(base, {key: value})) == world_key(base), key
