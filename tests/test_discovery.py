"""Scenario discovery: PRIM recovers planted boxes (numeric, categorical, list-valued),
describes them in words, evaluates --where safely, and reads sweep stores and
optimisation folders."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from simulation.experiments.discovery import (
    Trajectory,
    choose,
    condition,
    describe,
    discover,
    features,
    prim,
)
from simulation.experiments.runner import Sweep
from simulation.scenario import ScenarioError
from simulation.viz.plots import save_discovery_plot
from tests.conftest import SCENARIOS

ENTRY_FEE = "commission.entry_fee (RMB paid to the platform on joining)"


def planted(noise: float, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """2000 points uniform in [0, 1]^4; y inside [0.2, 0.6] x [0.5, 0.9] on a and b, each
    label flipped with probability `noise`."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(2000, 4)), columns=["a", "b", "c", "d"])
    inside = (x["a"].between(0.2, 0.6) & x["b"].between(0.5, 0.9)).to_numpy()
    return x, inside ^ (rng.uniform(size=len(x)) < noise)


def test_prim_recovers_a_planted_box_despite_label_noise():
    x, y = planted(noise=0.01)
    trajectory = prim(x, y)
    step = choose(trajectory, min_density=0.9, min_coverage=0.9)
    chosen = trajectory.table.iloc[step]
    assert chosen["density"] >= 0.9 and chosen["coverage"] >= 0.9
    box = trajectory.boxes[step]
    assert set(box) == {"a", "b"}
    assert np.allclose(box["a"], (0.2, 0.6), atol=0.05)
    assert np.allclose(box["b"], (0.5, 0.9), atol=0.05)


def test_trajectory_starts_with_the_whole_space_and_gains_density_at_every_peel():
    x, y = planted(noise=0.0)
    table = prim(x, y, paste=False).table
    assert table.iloc[0][["coverage", "mass", "restricted"]].tolist() == [1.0, 1.0, 0]
    assert table.iloc[0]["density"] == pytest.approx(y.mean())
    assert (table["density"].diff().dropna() > 0).all()
    assert (table["mass"].diff().dropna() < 0).all()
    assert table["mass"].min() >= 0.05
    assert table["step"].tolist() == list(range(len(table)))


def test_pasting_never_lowers_density_and_grows_back_a_box_peeled_too_far():
    x, y = planted(noise=0.05)
    peeled = prim(x, y, alpha=0.3, paste=False).table["density"]
    pasted = prim(x, y, alpha=0.3).table["density"]
    assert (pasted >= peeled).all()
    assert (pasted > peeled).any()
    x, y = planted(noise=0.0)
    assert prim(x, y).boxes[-1] == prim(x, y, paste=False).boxes[-1], "pure box grown back"


def test_prim_recovers_a_region_of_categories_and_numbers():
    rng = np.random.default_rng(3)
    x = pd.DataFrame(
        {
            "colour": rng.choice(["red", "blue", "green", "white"], 2000),
            "size": rng.uniform(size=2000),
            "noise": rng.uniform(size=2000),
        }
    )
    y = (x["colour"].isin(["red", "blue"]) & (x["size"] > 0.5)).to_numpy()
    trajectory = prim(x, y)
    box = trajectory.boxes[choose(trajectory, 0.9, 0.9)]
    assert box["colour"] == frozenset({"red", "blue"})
    assert box["size"][0] == pytest.approx(0.5, abs=0.02) and box["size"][1] == np.inf
    assert describe({"colour": box["colour"]}) == "colour one of blue, red"


def test_list_parameters_become_levels_and_totals_and_a_planted_depth_is_named():
    rng = np.random.default_rng(5)
    bonuses = ["[]", "[30]", "[30, 20]", "[30, 20, 10]"]
    table = pd.DataFrame(
        {
            "commission.recruiting_bonus": rng.choice(bonuses, 800),
            "commission.entry_fee": rng.choice([0.0, 60.0, 120.0, 180.0], 800),
            "run.steps": 30,
            "graph.kind": rng.choice(["watts_strogatz", "barabasi_albert"], 800),
        }
    )
    x = features(table, list(table.columns))
    assert list(x.columns) == [
        "commission.recruiting_bonus levels",
        "commission.recruiting_bonus total",
        "commission.entry_fee",
        "graph.kind",
    ]
    first = bonuses.index(table["commission.recruiting_bonus"].iloc[0])
    assert x.iloc[0, :2].tolist() == [first, [0, 30, 50, 60][first]]
    y = (x["commission.recruiting_bonus levels"] >= 2).to_numpy()
    trajectory = prim(x, y)
    box = trajectory.boxes[choose(trajectory)]
    assert box == {"commission.recruiting_bonus levels": (2.0, np.inf)}
    assert describe(box) == "commission.recruiting_bonus paid at 2 or more levels"


def test_lists_as_arrays_read_as_a_sweep_store_gives_them():
    table = pd.DataFrame({"bonus": [np.array([]), np.array([30.0, 20.0]), np.array([30.0])]})
    assert features(table, ["bonus"]).to_dict("list") == {
        "bonus levels": [0, 2, 1],
        "bonus total": [0.0, 50.0, 30.0],
    }


def test_restrictions_read_as_words_with_each_keys_meaning():
    box = {
        "commission.entry_fee": (120.0, np.inf),
        "commission.recruiting_bonus levels": (2.0, np.inf),
    }
    assert describe(box) == (
        f"{ENTRY_FEE} at least 120 and commission.recruiting_bonus paid at 2 or more levels"
    )
    assert describe({"commission.entry_fee": (-np.inf, 60.0)}) == f"{ENTRY_FEE} up to 60"
    assert describe({"commission.override_rates total": (0.05, 0.1)}) == (
        "commission.override_rates summed over levels (share of a sale paid d levels up) "
        "from 0.05 to 0.1"
    )
    assert describe({"commission.recruiting_bonus levels": (-np.inf, 1.0)}) == (
        "commission.recruiting_bonus paid at up to 1 level"
    )
    assert describe({"commission.recruiting_bonus levels": (-np.inf, 0.0)}) == (
        "commission.recruiting_bonus not paid"
    )
    words = {"commission.entry_fee": "an entry fee in RMB", "x": "the x"}
    assert describe({"commission.entry_fee": (120.0, 120.0)}, words) == "an entry fee in RMB at 120"
    assert describe({"x": (0.25, 0.5)}, words) == "the x from 0.25 to 0.5"
    assert describe({}) == "everywhere (no restriction)"


RUNS = pd.DataFrame(
    {
        "gmv": [1e5, 2e6, 3e5, 4e5],
        "brushed_gmv": [5e4, 0.0, 0.0, 3e5],
        "loss_fraction": [0.6, 0.7, np.nan, 0.1],
        "criminal_threshold_trees": [0, 1, 0, 0],
        "status": ["done"] * 4,
    }
)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("loss_fraction > 0.5 and gmv < 1e6", [True, False, False, False]),
        ("criminal_threshold_trees > 0 or brushed_gmv / gmv >= 0.5", [True, True, False, True]),
        ("not (criminal_threshold_trees == 0)", [False, True, False, False]),
        ("0.5 < loss_fraction <= 0.6", [True, False, False, False]),
        ("loss_fraction != 0.7", [True, False, False, True]),
        ("-loss_fraction * 2 + 1 < 0", [True, True, False, False]),
    ],
)
def test_where_evaluates_arithmetic_and_logic_row_by_row_with_nan_false(where, expected):
    assert condition(RUNS, where).tolist() == expected


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("nope > 0", "--where: nope: not a column; columns are: gmv, brushed_gmv, loss_fraction"),
        ("gmv >", "--where: not an expression"),
        ("__import__('os').system('echo owned') > 0", "is not allowed"),
        ("gmv.real > 0", "'gmv.real' is not allowed"),
        ("gmv > 'a'", "is not allowed"),
        ("gmv ** 2 > 0", "is not allowed"),
        ("status > 0", "--where: status: is not a column of numbers"),
        ("gmv + 1", "not a condition"),
        ("gmv and loss_fraction > 0", "'gmv' is not one"),
        ("gmv > 0", "holds for 4 of 4 rows; PRIM needs"),
        ("gmv < 0", "holds for 0 of 4 rows; PRIM needs"),
    ],
)
def test_where_refuses_anything_but_a_condition_that_splits_the_rows(where, message, capfd):
    with pytest.raises(ScenarioError) as refused:
        condition(RUNS, where)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    assert "owned" not in capfd.readouterr().out


def test_choose_refuses_a_density_no_box_reaches_and_names_the_best():
    x, y = planted(noise=0.2)
    trajectory = prim(x, y)
    best = trajectory.table.loc[trajectory.table["coverage"] >= 0.5, "density"].max()
    with pytest.raises(ScenarioError, match=f"the best there is {best:.3g}"):
        choose(trajectory, min_density=0.99, min_coverage=0.5)
    with pytest.raises(ScenarioError, match="--min-coverage: must be between 0 and 1"):
        choose(trajectory, min_coverage=1.5)


def test_choose_prefers_coverage_then_fewer_restrictions_then_density():
    table = pd.DataFrame(
        {
            "step": [0, 1, 2, 3, 4],
            "coverage": [1.0, 0.95, 0.95, 0.95, 0.6],
            "density": [0.3, 0.85, 0.9, 0.95, 0.99],
            "mass": [1.0, 0.4, 0.35, 0.33, 0.2],
            "restricted": [0, 2, 1, 1, 1],
        }
    )
    trajectory = Trajectory(table, [{}] * 5)
    assert choose(trajectory, min_density=0.8) == 3
    assert choose(trajectory, min_density=0.99) == 4


def write_optimisation(folder: Path) -> None:
    """An optimisation folder: two levers, 300 trials, losses where the fee is high
    and a recruiting bonus is paid, and some failed trials with no metrics."""
    folder.mkdir()
    levers = [
        {"key": "commission.entry_fee", "low": 0, "high": 300},
        {"key": "commission.recruiting_bonus", "choices": ["[]", "[30]", "[30, 20]"]},
    ]
    (folder / "optimisation.json").write_text(json.dumps({"levers": levers}))
    rng = np.random.default_rng(11)
    fee = rng.uniform(0, 300, 300).round(1)
    bonus = rng.choice(["[]", "[30]", "[30, 20]"], 300)
    losing = (fee > 150) & (bonus != "[]")
    trials = pd.DataFrame(
        {
            "number": range(300),
            "state": np.where(np.arange(300) % 10 == 9, "FAIL", "COMPLETE"),
            "commission.entry_fee": fee,
            "commission.recruiting_bonus": bonus,
            "loss_fraction": np.where(losing, 0.7, 0.2),
        }
    )
    trials.loc[trials["state"] == "FAIL", "loss_fraction"] = np.nan
    (folder / "front").mkdir()
    trials.to_csv(folder / "front" / "trials.csv", index=False)


def test_discover_reads_an_optimisations_complete_trials(tmp_path):
    write_optimisation(tmp_path / "opt")
    found = discover(tmp_path / "opt", "loss_fraction > 0.5")
    assert len(found.y) == 270
    assert found.features == [
        "commission.entry_fee",
        "commission.recruiting_bonus levels",
        "commission.recruiting_bonus total",
    ]
    assert set(found.box) == {"commission.entry_fee", "commission.recruiting_bonus levels"}
    assert found.box["commission.entry_fee"][0] == pytest.approx(150, abs=5)
    assert found.description.endswith("and commission.recruiting_bonus paid at 1 or more levels")
    assert found.description.startswith(f"{ENTRY_FEE} at least 1")
    path = found.write(tmp_path / "out")
    boxes = pd.read_csv(path)
    assert list(boxes.columns) == [
        "step",
        "coverage",
        "density",
        "mass",
        "restricted",
        "chosen",
        "restrictions",
    ]
    assert boxes["chosen"].sum() == 1
    assert boxes.loc[boxes["chosen"], "restrictions"].item() == found.description
    assert boxes["restrictions"].iloc[0] == "everywhere (no restriction)"


def test_discover_reads_a_sweep_store_of_finished_runs(tmp_path):
    out = tmp_path / "sweep"
    Sweep(
        SCENARIOS / "baseline.toml",
        vary={
            "commission.entry_fee": [0.0, 200.0],
            "commission.recruiting_bonus": [[], [30, 20]],
        },
        replicates=2,
        out=out,
        overrides={"population.size": 300, "run.steps": 30},
        progress=False,
    ).run()
    runs = pd.read_parquet(out / "runs.parquet")
    runs.loc[7, ["status", "flag_count"]] = ["failed", np.nan]
    runs.to_parquet(out / "runs.parquet")
    found = discover(out, "flag_count > 2")
    assert len(found.y) == 7 and found.y.sum() == 2
    assert found.trajectory.table.iloc[found.step]["density"] == 1.0
    assert found.description == (
        f"{ENTRY_FEE} up to 0 and commission.recruiting_bonus paid at 2 or more levels"
    )


def test_discover_refuses_a_folder_that_holds_neither_in_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ScenarioError) as refused:
        discover(tmp_path, "gmv > 0")
    assert str(refused.value) == f"{tmp_path}: not a sweep store or an optimisation folder"


def test_discover_refuses_an_optimisation_without_its_lever_columns(tmp_path):
    write_optimisation(tmp_path / "opt")
    path = tmp_path / "opt" / "front" / "trials.csv"
    pd.read_csv(path).drop(columns="commission.entry_fee").to_csv(path, index=False)
    with pytest.raises(ScenarioError, match="no 'commission.entry_fee' column"):
        discover(tmp_path / "opt", "loss_fraction > 0.5")


def test_tradeoff_plot_is_written_as_a_png(tmp_path):
    write_optimisation(tmp_path / "opt")
    found = discover(tmp_path / "opt", "loss_fraction > 0.5")
    path = save_discovery_plot(found.table(), tmp_path)
    assert path == tmp_path / "tradeoff.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
